/* The sim's media sources role: paced RTP senders on their own UDP sockets (PROTOCOL.md). */
#ifndef RTPSLA_SOURCE_H
#define RTPSLA_SOURCE_H

#include <stdint.h>
#include "ctl.h"
#include "loop.h"

/* source.open / setup / start / stop / link / unlink / delay / stats / close */
void source_command(const char *cmd, double id, const struct json_obj *o);
/* a source socket (H_SOURCE) is readable, or the sources' timer (H_SOURCE_TIMER) fired */
void source_on_readable(struct handle *h, int64_t now);

#endif
