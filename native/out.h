/* stdout framing (u32 LE length | u8 type | payload) of replies, events and record batches, never
 * blocking the loop: back-pressure waits in an output buffer; record batches beyond the backlog cap
 * are dropped and counted. */
#ifndef RTPSLA_OUT_H
#define RTPSLA_OUT_H

#include <stddef.h>
#include <stdint.h>
#include "engine.h"

/* write frames to fd (1 in the engine): non-blocking, pipe enlarged, watched for EPOLLOUT when the
 * loop can poll it (a regular file or a fd the loop cannot poll is written blocking) */
void out_open(int fd);
/* a reply or event frame; records of earlier packets are framed before it */
void out_frame(int type, const char *payload, size_t len);
/* queue one record (framed with others: a full batch is framed at once) */
void out_record(const struct record *r);
/* frame the pending records now (or drop them when the reader is too far behind) */
void out_flush_records(void);
/* write what the output buffer holds as far as the fd takes it (also on EPOLLOUT) */
void out_try_write(void);
/* the loop's epoll timeout: at most max_ms, less when pending records are due to be framed */
int out_timeout_ms(int64_t now, int max_ms);
/* after a batch of events: frame the pending records when the loop was idle or they are due */
void out_flush_if_due(int64_t now, int idle);
/* before exiting: frame everything and write it blocking */
void out_drain_blocking(void);

uint64_t out_records_sent(void);
uint64_t out_records_dropped(void);

#endif
