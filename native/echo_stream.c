/*
 * The echo role in stream mode: a stand-in voice bot. Each source (address, port, SSRC) gets, from
 * its first packet on, its OWN paced 20 ms RTP stream back to its address: its own SSRC, a random
 * first sequence number and timestamp, the payload type of the source, a timestamp step of the
 * source's own (learned from two consecutive packets; 20 ms at the clock rate of the PT until then),
 * a fixed payload (0xff) making datagrams of the size of the source's first one. Frame k is due at
 * t_first_seen + k x 20 ms (absolute deadlines, never drifting), on the role's one timerfd and heap
 * (echo_hold.c). What the source sends is otherwise ignored. A source idle for idle_expiry stops
 * (the sweep then frees it). Behind by more than MAX_CATCH_UP_FRAMES (a stalled process resumed),
 * it skips ahead: timestamp jumps by the frames missed, marker set; else the frames due go at once.
 * Each frame gives a kind 5 record: tRecv = its deadline, tSent, flag held, aux 0.
 */
#include "echo_int.h"
#include "io.h"
#include "out.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>

#define STREAM_FRAME_NS 20000000LL
#define STREAM_FILL 0xff
#define STREAM_MAX_BYTES 1500
#define LATE_TOLERANCE_NS 1000000LL

static uint32_t random_u32(void) {
  uint32_t x;
  if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x) x = (uint32_t)mono_ns() * 2654435761u;
  return x;
}

static void stream_start(struct source *s, const struct rtp *p, size_t len, int64_t t_recv) {
  struct echo_own *o = &s->own;
  o->start_ns = t_recv;
  o->frame = 0;
  o->ssrc = random_u32();
  if (o->ssrc == p->ssrc) o->ssrc ^= 0x5a5a5a5a;
  o->seq = (uint16_t)random_u32();
  o->ts = random_u32();
  o->step = (uint32_t)(STREAM_FRAME_NS / s->anchor.ns_per_tick + 0.5);
  o->len = len < 12 ? 12 : len > STREAM_MAX_BYTES ? STREAM_MAX_BYTES : (uint16_t)len;
  o->pt = p->pt & 0x7f;
  o->steps_seen = 0;
  o->marker = 0;
  o->last_in_ts = p->ts;
  o->last_in_seq = p->seq;
  echo_schedule_at(s, o->start_ns);
}

void echo_stream_rx(struct source *s, const struct rtp *p, size_t len, int64_t t_recv) {
  struct echo_own *o = &s->own;
  if (o->len == 0 || !s->hi.in_heap) return stream_start(s, p, len, t_recv); /* first seen, or back after going idle */
  /* the source's timestamp step, from two consecutive packets (the first such pair) */
  uint32_t d = p->ts - o->last_in_ts;
  if (o->steps_seen == 0 && (uint16_t)(p->seq - o->last_in_seq) == 1 && d > 0 && d < 48000) {
    o->step = d;
    o->steps_seen = 1;
  }
  o->last_in_ts = p->ts;
  o->last_in_seq = p->seq;
}

/* one frame of the source's stream into buf (its datagram size) */
static size_t stream_frame(const struct echo_own *o, uint8_t *buf) {
  buf[0] = 0x80;
  buf[1] = (uint8_t)(o->pt | (o->marker ? 0x80 : 0));
  uint16_t seq = htons(o->seq);
  uint32_t ts = htonl(o->ts), ssrc = htonl(o->ssrc);
  memcpy(buf + 2, &seq, 2);
  memcpy(buf + 4, &ts, 4);
  memcpy(buf + 8, &ssrc, 4);
  memset(buf + 12, STREAM_FILL, o->len - 12u);
  return o->len;
}

static void stream_send(struct source *s, int64_t due) {
  struct echo *e = s->e;
  struct echo_own *o = &s->own;
  uint8_t buf[STREAM_MAX_BYTES];
  size_t n = stream_frame(o, buf);
  struct record rec = {.id = e->id, .kind = REC_ECHO, .pt = o->pt, .flags = REC_F_HELD | (o->marker ? REC_F_MARKER : 0), .seq = o->seq, .ts = o->ts, .ssrc = o->ssrc, .size = (uint16_t)n, .t_recv_ns = due};
  ssize_t r = sendto(e->h.fd, buf, n, 0, (const struct sockaddr *)&s->addr, sockaddr_len(&s->addr));
  int64_t t_sent = mono_ns();
  if (t_sent - due > e->max_lag_ns) e->max_lag_ns = t_sent - due;
  if (t_sent - due > LATE_TOLERANCE_NS) e->late++;
  echo_sent(e, &rec, t_sent, r == (ssize_t)n);
  o->seq++;
  o->ts += o->step;
  o->marker = 0;
  o->frame++;
}

void echo_stream_due(struct source *s, int64_t now) {
  struct echo_own *o = &s->own;
  if (now - s->last_seen_ns > s->e->idle_expiry_ns) return echo_schedule_at(s, -1); /* idle: it stops */
  int64_t next = o->start_ns + (int64_t)o->frame * STREAM_FRAME_NS;
  int64_t skip = pace_skip_frames(now, next, STREAM_FRAME_NS, pace_skip_threshold_ns(STREAM_FRAME_NS, 0));
  if (skip > 0) {
    o->frame += (uint64_t)skip;
    o->ts += (uint32_t)skip * o->step;
    o->marker = 1;
    next = o->start_ns + (int64_t)o->frame * STREAM_FRAME_NS;
  }
  while (next <= now) {
    stream_send(s, next);
    next += STREAM_FRAME_NS;
  }
  echo_schedule_at(s, next);
}
