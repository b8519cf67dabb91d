/*
 * The sim's media sources: pacing, sending, receiving and forwarding. ONE timerfd
 * (CLOCK_MONOTONIC, TFD_TIMER_ABSTIME) serves all sources, armed for the earliest due time of a
 * min-heap of sources: a running source's next frame, a linked source's oldest queued packet.
 * Pacing is from absolute deadlines (deadline_n = start + n x frame, never drifting); every frame
 * that is due is sent when the timer fires; a source behind by more than MAX_CATCH_UP_FRAMES frames
 * skips ahead (timestamp jump + marker) instead of bursting, except in the deliberate catch-up burst
 * after a hold of the first frame (holdFirstUs).
 *
 * What comes back to the source's port is accepted from the learned peer (remoteAddress at first;
 * like Asterisk's strictrtp a new peer is learned after `probation` consecutive packets from it,
 * which are counted as foreign). Every frame sent gives a record (deadline, send time); every RTP
 * packet received from the peer gives a record with its kernel receive time and, when it matches a
 * frame sent (SSRC + seq, or RTP timestamp), that frame's send time (the round trip is the
 * difference). A linked source also sends what it receives on out of the link's target source,
 * with the target's SSRC and sequence numbers, after a drawn delay, in arrival order.
 */
#include "source_int.h"
#include "engine.h"
#include "heap_timer.h"
#include "io.h"
#include "out.h"
#include "pace.h"
#include "rtp.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

static struct heap g_heap;
static struct heap_timer g_timer = HEAP_TIMER_INIT(H_SOURCE_TIMER);
static uint8_t g_fwd_buf[RX_BUF_BYTES];

#define SOURCE_OF(item) ((struct source *)((char *)(item) - offsetof(struct source, hi)))

/* ---- the one timer ---- */

static void timer_arm(void) { heap_timer_arm(&g_timer, &g_heap); }

int source_timer_open(void) { return heap_timer_open(&g_timer); }

/* the source's next due time: its next frame while running, its oldest queued packet; INT64_MAX = none */
static int64_t source_due(const struct source *s) {
  int64_t due = INT64_MAX;
  if (s->running) due = pace_send_at(s->next_ns, s->hold_until_ns);
  const struct fwd_pkt *p = s->link != NULL ? fwdq_head(&s->link->q) : NULL;
  if (p != NULL && p->due_ns < due) due = p->due_ns;
  return due;
}

static int source_requeue(struct source *s) {
  int64_t due = source_due(s);
  if (due == INT64_MAX) {
    heap_remove(&g_heap, &s->hi);
    return 0;
  }
  return heap_set(&g_heap, &s->hi, due);
}

int source_reschedule(struct source *s) {
  int r = source_requeue(s);
  timer_arm();
  return r;
}

void source_unschedule(struct source *s) {
  heap_remove(&g_heap, &s->hi);
  timer_arm();
}

/* ---- sending frames ---- */

static struct sent_slot *ring_slot(struct source *s, uint16_t seq, uint32_t ts) {
  size_t i = s->match_ts ? (size_t)(ts / s->samples_per_frame) : (size_t)seq;
  return &s->ring[i & (SEND_RING - 1)];
}

static void source_send_frame(struct source *s) {
  uint8_t *b = s->pkt;
  b[1] = (uint8_t)((s->marker ? 0x80 : 0) | (s->pt & 0x7f));
  b[2] = (uint8_t)(s->seq >> 8);
  b[3] = (uint8_t)s->seq;
  b[4] = (uint8_t)(s->ts >> 24);
  b[5] = (uint8_t)(s->ts >> 16);
  b[6] = (uint8_t)(s->ts >> 8);
  b[7] = (uint8_t)s->ts;
  memcpy(b + 12, s->payload + (size_t)s->frame_index * s->frame_bytes, s->frame_bytes);
  size_t len = 12 + s->frame_bytes;
  /*
   * Stamped as the packet goes to the kernel, not after sendto returns: where the relay and echo
   * run above the sim on its CPU, the whole round trip can complete inside this sendto, and a
   * later stamp would make it look shorter than it was (down to 0).
   */
  int64_t t_sent = mono_ns();
  ssize_t w = sendto(s->h.fd, b, len, MSG_DONTWAIT, (const struct sockaddr *)&s->remote, sockaddr_len(&s->remote));
  struct record rec = {0};
  rec.id = s->id;
  rec.kind = REC_SRC_SENT;
  rec.pt = s->pt;
  rec.flags = s->marker ? REC_F_MARKER : 0;
  rec.seq = s->seq;
  rec.size = (uint16_t)len;
  rec.ts = s->ts;
  rec.ssrc = s->ssrc;
  rec.t_recv_ns = s->next_ns;
  rec.t_sent_ns = t_sent;
  rec.aux = s->skipped_pending;
  if (w < 0) {
    rec.flags |= REC_F_SEND_FAILED;
    s->send_errors++;
  }
  out_record(&rec);
  struct sent_slot *slot = ring_slot(s, s->seq, s->ts);
  slot->key = s->match_ts ? (int64_t)s->ts : (int64_t)s->seq;
  slot->t_sent_ns = t_sent;
  s->packets_sent++;
  s->sent_any = 1;
  s->marker = 0;
  s->skipped_pending = 0;
  s->last_deadline_ns = s->next_ns;
  s->last_ts = s->ts;
  s->seq++;
  s->ts += s->samples_per_frame;
  if (++s->frame_index == s->frame_count) s->frame_index = 0;
  s->next_ns += s->frame_ns;
}

/* far behind: skip the missed frames like a timestamp jump (marker on the next frame) */
static void source_skip(struct source *s, int64_t frames) {
  s->next_ns += frames * s->frame_ns;
  s->ts += (uint32_t)(frames * s->samples_per_frame);
  s->marker = 1;
  s->skipped_pending += (int32_t)frames;
  s->skips++;
}

static void source_frame_due(struct source *s, int64_t now) {
  int64_t threshold = pace_skip_threshold_ns(s->frame_ns, s->catch_up_extra_ns);
  int64_t frames = pace_skip_frames(now, s->next_ns, s->frame_ns, threshold);
  if (frames > 0) source_skip(s, frames);
  else source_send_frame(s);
  if (s->next_ns > now) s->catch_up_extra_ns = 0; /* caught up: the normal skip rule again */
}

void source_start(struct source *s, int64_t start_ns, int64_t hold_ns) {
  s->next_ns = start_ns;
  s->hold_until_ns = hold_ns > 0 ? start_ns + hold_ns : 0;
  s->catch_up_extra_ns = hold_ns > 0 ? hold_ns : 0;
  if (s->sent_any) {
    /* resumed after a stop: seq continues, ts jumps by the wall-clock gap, marker set */
    int64_t frames = pace_resume_frames(s->next_ns - s->last_deadline_ns, s->frame_ns);
    s->ts = s->last_ts + (uint32_t)(frames * s->samples_per_frame);
    s->marker = 1;
  }
  s->running = 1;
}

/* ---- forwarding ---- */

/* send a received packet (buf, rewritten in place) out of the link's target with its SSRC and seq */
static void fwd_send(struct source *s, uint8_t *b, size_t len, int64_t t_recv, int32_t delay_us) {
  struct source *to = s->link->to;
  b[2] = (uint8_t)(to->seq >> 8);
  b[3] = (uint8_t)to->seq;
  b[8] = (uint8_t)(to->ssrc >> 24);
  b[9] = (uint8_t)(to->ssrc >> 16);
  b[10] = (uint8_t)(to->ssrc >> 8);
  b[11] = (uint8_t)to->ssrc;
  struct record rec = {0};
  rec.id = s->id;
  rec.kind = REC_SRC_FORWARDED;
  rec.pt = b[1] & 0x7f;
  rec.flags = (b[1] & 0x80) ? REC_F_MARKER : 0;
  rec.seq = to->seq;
  rec.size = len > 0xffff ? 0xffff : (uint16_t)len;
  rec.ts = ((uint32_t)b[4] << 24) | ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
  rec.ssrc = to->ssrc;
  rec.t_recv_ns = t_recv;
  rec.aux = delay_us;
  rec.t_sent_ns = mono_ns(); /* just before sendto, as for frames */
  ssize_t w = sendto(to->h.fd, b, len, MSG_DONTWAIT, (const struct sockaddr *)&to->remote, sockaddr_len(&to->remote));
  if (w < 0) {
    rec.flags |= REC_F_SEND_FAILED;
    s->send_errors++;
  } else {
    s->forwarded++;
  }
  to->seq++;
  out_record(&rec);
}

/* a packet received from the peer of a linked source: send it now or queue it for its due time */
static void fwd_packet(struct source *s, const struct rx_dgram *dg, int64_t now) {
  struct fwd_link *l = s->link;
  int64_t delay = delay_at(&l->dist, l->dist.n > 1 ? fwd_uniform(&l->rng) : 0);
  if (dg->t_recv_ns < s->fault_until_ns) {
    delay += s->fault_extra_ns;
    s->delayed_by_fault++;
  }
  int64_t due = fwdq_next_due(&l->q, dg->t_recv_ns, delay);
  int64_t delay_us = (due - dg->t_recv_ns) / 1000;
  int32_t aux = delay_us > INT32_MAX ? INT32_MAX : (int32_t)delay_us;
  if (l->q.n == 0 && due <= now) {
    memcpy(g_fwd_buf, dg->buf, dg->len);
    return fwd_send(s, g_fwd_buf, dg->len, dg->t_recv_ns, aux);
  }
  if (fwdq_push(&l->q, dg->buf, dg->len, due, dg->t_recv_ns, aux) == NULL) {
    s->queue_full++; /* full (or too long to queue): it goes at once */
    memcpy(g_fwd_buf, dg->buf, dg->len);
    return fwd_send(s, g_fwd_buf, dg->len, dg->t_recv_ns, aux);
  }
  source_reschedule(s);
}

static void fwd_due(struct source *s) {
  struct fwd_pkt *p = fwdq_head(&s->link->q);
  fwd_send(s, p->buf, p->len, p->t_recv_ns, p->delay_us);
  fwdq_pop(&s->link->q);
}

void source_on_timer(void) {
  /* one clock reading per pass: a source sends at most MAX_CATCH_UP_FRAMES + 1 frames in it
   * (more in the catch-up burst after a hold) */
  int64_t now = heap_timer_fired(&g_timer);
  struct heap_item *top;
  while ((top = heap_top(&g_heap)) != NULL && top->key <= now) {
    struct source *s = SOURCE_OF(top);
    const struct fwd_pkt *p = s->link != NULL ? fwdq_head(&s->link->q) : NULL;
    if (p != NULL && p->due_ns <= now && (!s->running || p->due_ns <= pace_send_at(s->next_ns, s->hold_until_ns))) fwd_due(s);
    else source_frame_due(s, now);
    source_requeue(s);
  }
  timer_arm();
}

/* ---- receiving ---- */

/* 1 when the datagram is from the learned peer (or makes it learned), else recorded as foreign */
static int source_from_peer(struct source *s, const struct rx_dgram *dg, struct record *rec) {
  if (s->has_peer && sockaddr_equal(dg->from, &s->peer)) return 1;
  if (s->cand_count > 0 && sockaddr_equal(dg->from, &s->cand)) {
    s->cand_count++;
  } else {
    s->cand = *dg->from;
    s->cand_count = 1;
  }
  if (s->cand_count < s->probation) {
    rec->kind = REC_SRC_FOREIGN;
    s->foreign++;
    out_record(rec);
    return 0;
  }
  s->peer = *dg->from; /* learned (strictrtp) */
  s->has_peer = 1;
  s->cand_count = 0;
  return 1;
}

/* the send time of the frame a received packet answers (one sample per frame sent), or 0 */
static int64_t source_match(struct source *s, const struct rtp *p) {
  if (!s->match_ts && p->ssrc != s->ssrc) return 0;
  struct sent_slot *slot = ring_slot(s, p->seq, p->ts);
  if (slot->key != (s->match_ts ? (int64_t)p->ts : (int64_t)p->seq)) return 0;
  slot->key = -1;
  return slot->t_sent_ns;
}

static void source_receive(struct source *s, const struct rx_dgram *dg, int64_t now) {
  struct record rec = {0};
  rec.id = s->id;
  rec.size = dg->len > 0xffff ? 0xffff : (uint16_t)dg->len;
  rec.t_recv_ns = dg->t_recv_ns;
  if (!source_from_peer(s, dg, &rec)) return;
  struct rtp p;
  int reason = rtp_parse(dg->buf, dg->len, &p);
  if (reason != 0) {
    rec.kind = REC_SRC_MALFORMED;
    rec.aux = reason;
    s->malformed++;
    out_record(&rec);
    return;
  }
  s->packets_received++;
  rec.kind = REC_SRC_RECEIVED;
  rec.pt = p.pt;
  rec.flags = p.marker ? REC_F_MARKER : 0;
  rec.seq = p.seq;
  rec.ts = p.ts;
  rec.ssrc = p.ssrc;
  rec.t_sent_ns = source_match(s, &p);
  out_record(&rec);
  if (s->link != NULL) fwd_packet(s, dg, now);
}

void source_drain_socket(struct source *s) {
  for (;;) {
    int n = rx_receive(s->h.fd);
    if (n == 0) return;
    int64_t now = mono_ns();
    for (int i = 0; i < n; i++) {
      const struct rx_dgram dg = rx_at(i);
      source_receive(s, &dg, now);
    }
    if (rx_socket_drained(n)) return;
  }
}
