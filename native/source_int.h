/* The source role's internals, shared by source.c (commands) and source_media.c (timer, sending,
 * receiving, forwarding). Nothing outside the role includes it. */
#ifndef RTPSLA_SOURCE_INT_H
#define RTPSLA_SOURCE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "fwd.h"
#include "heap.h"
#include "loop.h"

#define SEND_RING 1024 /* ~20 s of send times per source at 50 frames/s */
#define DEFAULT_PROBATION 4
#define LINK_QUEUE 256 /* packets a link holds (5 s at 50 packets/s) */

struct sent_slot {
  int64_t key; /* seq or RTP timestamp of the frame sent (matchBy); -1 = empty */
  int64_t t_sent_ns;
};

struct source;
/* a one-directional forwarding link: what the source receives from its peer goes out of `to` */
struct fwd_link {
  struct source *to;
  struct delay_dist dist;
  uint64_t rng;
  struct fwd_queue q;
};

struct source {
  struct handle h;
  struct heap_item hi; /* in the heap while running or holding queued packets: key = next due time */
  uint32_t id;
  int port;
  int configured;
  struct sockaddr_storage remote; /* where frames go */
  struct sockaddr_storage peer;   /* whose packets are accepted (learned) */
  int has_peer;
  struct sockaddr_storage cand;
  int cand_count;
  int probation;
  int match_ts; /* received packets matched to frames sent by RTP timestamp (any SSRC), else SSRC + seq */
  uint8_t pt;
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  uint32_t samples_per_frame;
  int64_t frame_ns;
  uint8_t *payload; /* whole tone period: frame_count frames of frame_bytes */
  size_t frame_bytes;
  int frame_count;
  int frame_index;
  uint8_t *pkt; /* 12 + frame_bytes */
  int running;
  int64_t next_ns;           /* deadline of the next frame */
  int64_t hold_until_ns;     /* no frame goes before this (holdFirstUs) */
  int64_t catch_up_extra_ns; /* widens the skip threshold until the hold's catch-up burst is done */
  int marker;
  int sent_any;
  int64_t last_deadline_ns;
  uint32_t last_ts;
  int32_t skipped_pending;
  struct fwd_link *link; /* NULL = not forwarding */
  int64_t fault_extra_ns, fault_until_ns;
  uint64_t packets_sent, packets_received, foreign, malformed, send_errors, skips;
  uint64_t forwarded, queue_full, delayed_by_fault;
  struct sent_slot ring[SEND_RING];
  struct source *next;
};

/* ---- source_media.c ---- */
/* open the one timerfd of all sources (once); 0 or -errno */
int source_timer_open(void);
/* put the source in the heap by its next due time (frame or queued packet), or take it out, and
 * re-arm the timer */
int source_reschedule(struct source *s);
/* take the source out of the heap (closing) and re-arm the timer */
void source_unschedule(struct source *s);
/* start sending at start_ns (a resumed source continues its sequence, jumps its timestamp) with no
 * frame before start_ns + hold_ns */
void source_start(struct source *s, int64_t start_ns, int64_t hold_ns);
/* receive and record (and forward, when linked) whatever is on the socket */
void source_drain_socket(struct source *s);
/* the timer fired: send every frame and queued packet that is due */
void source_on_timer(void);

#endif
