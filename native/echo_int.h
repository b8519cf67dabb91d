/* The echo role's internals, shared by echo.c (commands, receiving) and echo_hold.c (the hold
 * queues and the one timer of the role). */
#ifndef RTPSLA_ECHO_INT_H
#define RTPSLA_ECHO_INT_H

#include "engine.h"
#include "heap.h"
#include "loop.h"
#include "pace.h"
#include "rtp.h"

#include <stdint.h>
#include <sys/socket.h>

/* a source's hold queue: the datagrams it holds for their slot, in arrival order */
#define ECHO_RING 64           /* 1.28 s of 20 ms frames */
#define ECHO_SLOT_BYTES 1500   /* a larger datagram is never held: it goes at once (counted) */
struct echo_slot {
  struct record rec; /* the record it will give, filled on arrival */
  uint16_t len;
  uint8_t buf[ECHO_SLOT_BYTES];
};

/* what the echo does with a source's packets (echo.open `mode`) */
enum echo_mode { ECHO_MODE_ECHO = 0, ECHO_MODE_STREAM = 1, ECHO_MODE_SINK = 2 };

/* stream mode: the source's own paced stream back to it (echo_stream.c) */
struct echo_own {
  int64_t start_ns;  /* when the source was first seen: deadline of frame 0 */
  uint64_t frame;    /* the next frame to send: due at start_ns + frame x 20 ms */
  uint32_t ssrc, ts, step;
  uint16_t seq, len; /* len: the datagram size, as the source's first packet */
  uint8_t pt, steps_seen, marker;
  uint32_t last_in_ts;
  uint16_t last_in_seq;
};

struct echo;
struct source {
  struct sockaddr_storage addr;
  uint32_t ssrc;
  struct echo_anchor anchor;
  int64_t last_seen_ns;
  struct echo *e;
  struct heap_item hi;     /* in the role's heap while it holds packets: key = due of the oldest */
  struct echo_slot *ring;  /* malloc'd on its first hold (NULL until then), freed with the source */
  unsigned head, count;
  struct echo_own own;     /* stream mode only */
  struct source *next;
};

struct echo {
  struct handle h;
  uint32_t id;
  char address[64];
  int port;
  double ns_per_tick[128];
  int64_t idle_expiry_ns;
  int64_t max_hold_ns;
  int64_t sweep_every_ns;
  int64_t next_sweep_ns;
  uint64_t max_sources;
  struct source **buckets;
  size_t nbuckets;
  uint64_t packets_in, bytes_in, packets_out, bytes_out, malformed, send_errors, late, arrived_late;
  uint64_t sources_active, sources_total, sources_expired, anchor_moves, reanchors, unpaced;
  uint64_t held, queued, queue_overflows;
  int64_t max_lag_ns; /* worst t_sent - due of a held packet (stream: of a frame) */
  int mode;           /* enum echo_mode */
  struct echo *next;
};

/* open the role's one timerfd (once); 0 or -errno */
int echo_timer_open(void);
/* the timer fired: send every held packet (and stream frame) that is due (echo.c dispatches by mode) */
void echo_on_timer(void);
/* the role's one timer: drain its expirations and say now */
int64_t echo_timer_fired(void);
/* hold the datagram of the source until its slot; 0, or -1 when it cannot (ring full, too big:
 * counted in queue_overflows, send it at once) */
int echo_hold(struct source *s, const uint8_t *buf, size_t len, const struct record *rec);
/* send the source's held packets whose slot is at or before now; floor_ns: the time they were due to
 * leave at the earliest (now when a settling anchor releases them, INT64_MIN from the timer) */
void echo_release_due(struct source *s, int64_t now, int64_t floor_ns);
/* every held packet due at `now` (and every stream frame due), batched across sources; re-arm */
void echo_release_all_due(int64_t now);
/* forget the source's held packets (closing) and free its ring */
void echo_drop_held(struct source *s);
/* finish a record of a packet sent (t_sent, send result) and count it */
void echo_sent(struct echo *e, struct record *rec, int64_t t_sent, int ok);
/* put the source in the role's heap at `at` (its next due), or take it out (at < 0); re-arm the timer */
void echo_schedule_at(struct source *s, int64_t at);

/* stream mode: a packet of the source (the first one starts its stream) */
void echo_stream_rx(struct source *s, const struct rtp *p, size_t len, int64_t t_recv);
/* stream mode: send the source's frames that are due; schedule the next one (none once it is idle) */
void echo_stream_due(struct source *s, int64_t now);

#endif
