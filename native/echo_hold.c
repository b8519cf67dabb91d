/*
 * The echo's hold queues: a packet that arrives before its slot (due = t0' + (ts - ts0)/clock_rate,
 * pace.h) is copied into its source's ring and sent when the slot comes. ONE timerfd
 * (CLOCK_MONOTONIC, TFD_TIMER_ABSTIME) serves every echo, armed for the earliest due of a min-heap
 * of the sources that hold packets (key: the due of the oldest one). The due is taken from the
 * source's anchor when the packet goes, so an anchor that moved earlier releases what it held
 * (those are due to leave at that moment: their record's aux = t_recv - then).
 * A full ring (or a datagram over ECHO_SLOT_BYTES) is never waited for: that packet goes at once
 * and is counted (queue_overflows).
 * In stream mode the same heap and timer pace each source's own stream (echo_stream.c): key = the
 * deadline of its next frame.
 */
#include "echo_int.h"
#include "heap_timer.h"
#include "io.h"
#include "out.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct heap g_heap;
static struct heap_timer g_timer = HEAP_TIMER_INIT(H_ECHO_TIMER);
static struct tx_batch g_htx;

#define SOURCE_OF(item) ((struct source *)((char *)(item) - offsetof(struct source, hi)))

static void timer_arm(void) { heap_timer_arm(&g_timer, &g_heap); }

int echo_timer_open(void) { return heap_timer_open(&g_timer); }

/* the due time of a held packet under the source's anchor now */
static int64_t slot_due(const struct source *s, const struct echo_slot *sl) {
  const struct echo_anchor *a = &s->anchor;
  return a->t0_ns + (int64_t)((double)(int32_t)(sl->rec.ts - a->ts0) * a->ns_per_tick);
}

/* put the source in the heap by the due of its oldest held packet, or take it out; re-arm */
static void schedule(struct source *s) {
  if (s->count > 0) {
    if (heap_set(&g_heap, &s->hi, slot_due(s, &s->ring[s->head])) != 0) heap_remove(&g_heap, &s->hi);
  } else {
    heap_remove(&g_heap, &s->hi);
  }
  timer_arm();
}

void echo_schedule_at(struct source *s, int64_t at) {
  if (at < 0 || heap_set(&g_heap, &s->hi, at) != 0) heap_remove(&g_heap, &s->hi);
  timer_arm();
}

void echo_sent(struct echo *e, struct record *rec, int64_t t_sent, int ok) {
  rec->t_sent_ns = t_sent;
  if (ok) {
    e->packets_out++;
    e->bytes_out += rec->size;
  } else {
    e->send_errors++;
    rec->flags |= REC_F_SEND_FAILED;
  }
  out_record(rec);
}

int echo_hold(struct source *s, const uint8_t *buf, size_t len, const struct record *rec) {
  struct echo *e = s->e;
  if (len > ECHO_SLOT_BYTES || s->count == ECHO_RING) {
    e->queue_overflows++;
    return -1;
  }
  if (s->ring == NULL && (s->ring = malloc(ECHO_RING * sizeof *s->ring)) == NULL) {
    e->queue_overflows++;
    return -1;
  }
  struct echo_slot *sl = &s->ring[(s->head + s->count) % ECHO_RING];
  sl->rec = *rec;
  sl->rec.flags |= REC_F_HELD;
  sl->len = (uint16_t)len;
  memcpy(sl->buf, buf, len);
  s->count++;
  e->held++;
  e->queued++;
  if (s->count == 1) schedule(s);
  return 0;
}

/* one held packet sent: its pacing error and record, and out of its source's ring */
static void slot_sent(struct source *s, int64_t due, int64_t t_sent, int ok) {
  struct echo *e = s->e;
  struct echo_slot *sl = &s->ring[s->head];
  int64_t lag = t_sent - due;
  if (lag > e->max_lag_ns) e->max_lag_ns = lag;
  int64_t aux_us = (sl->rec.t_recv_ns - due) / 1000;
  sl->rec.aux = aux_us < INT32_MIN ? INT32_MIN : (int32_t)aux_us;
  echo_sent(e, &sl->rec, t_sent, ok);
  s->head = (s->head + 1) % ECHO_RING;
  s->count--;
  e->queued--;
}

/*
 * Every held packet due at `now`, of every echo-mode source, in batches of up to RX_BATCH across
 * sources (one sendmmsg for many calls, not one per call: under a burst each send also runs the
 * kernel's pending network work, which would delay the sources after it). Stream-mode sources
 * due are served by echo_stream_due.
 */
void echo_release_all_due(int64_t now) {
  struct source *srcs[RX_BATCH];
  int64_t due[RX_BATCH];
  for (;;) {
    int n = 0, fd = -1;
    struct heap_item *top;
    while (n < RX_BATCH && (top = heap_top(&g_heap)) != NULL && top->key <= now) {
      struct source *s = SOURCE_OF(top);
      if (s->e->mode == ECHO_MODE_STREAM) {
        echo_stream_due(s, now);
        continue;
      }
      if (fd >= 0 && s->e->h.fd != fd) break; /* another echo's socket: its own batch */
      fd = s->e->h.fd;
      heap_remove(&g_heap, &s->hi);
      for (unsigned k = s->head, i = 0; n < RX_BATCH && i < s->count; i++, k = (k + 1) % ECHO_RING) {
        int64_t d = slot_due(s, &s->ring[k]);
        if (d > now) break;
        srcs[n] = s;
        due[n++] = d;
        tx_add(&g_htx, s->ring[k].buf, s->ring[k].len, &s->addr, sockaddr_len(&s->addr));
      }
    }
    if (n == 0) break;
    int64_t t_sent = tx_flush(fd, &g_htx);
    for (int i = 0; i < n; i++) slot_sent(srcs[i], due[i], t_sent, g_htx.ok[i]);
    for (int i = 0; i < n; i++)
      if (i == n - 1 || srcs[i + 1] != srcs[i]) schedule(srcs[i]);
  }
  timer_arm();
}

void echo_release_due(struct source *s, int64_t now, int64_t floor_ns) {
  struct echo *e = s->e;
  while (s->count > 0 && slot_due(s, &s->ring[s->head]) <= now) {
    int n = 0;
    int64_t due[RX_BATCH];
    for (unsigned k = s->head; n < RX_BATCH && n < (int)s->count; n++, k = (k + 1) % ECHO_RING) {
      struct echo_slot *sl = &s->ring[k];
      due[n] = slot_due(s, sl);
      if (due[n] > now) break;
      tx_add(&g_htx, sl->buf, sl->len, &s->addr, sockaddr_len(&s->addr));
    }
    int64_t t_sent = tx_flush(e->h.fd, &g_htx);
    /* released by a settling anchor: due to leave then */
    for (int i = 0; i < n; i++) slot_sent(s, due[i] < floor_ns ? floor_ns : due[i], t_sent, g_htx.ok[i]);
  }
  schedule(s);
}

void echo_drop_held(struct source *s) {
  s->e->queued -= s->count;
  s->count = 0;
  heap_remove(&g_heap, &s->hi);
  timer_arm();
  free(s->ring);
  s->ring = NULL;
}

int64_t echo_timer_fired(void) { return heap_timer_fired(&g_timer); }

