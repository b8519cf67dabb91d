/*
 * Forwarding between two sim sources (as Asterisk's simple_bridge does): the delay distribution a
 * link draws each packet's delay from, and the link's FIFO of packets waiting for their due time.
 * Pure: no I/O, no clock.
 */
#ifndef RTPSLA_FWD_H
#define RTPSLA_FWD_H

#include <stddef.h>
#include <stdint.h>

/* ---- delay distribution: N+1 evenly spaced quantiles p0..p100 ---- */
#define DELAY_MAX_QUANTILES 101
struct delay_dist {
  int n; /* 0 = no added delay */
  int64_t q_ns[DELAY_MAX_QUANTILES];
};
/* "q0,q1,...,qN" (µs, N >= 0, non-decreasing, >= 0) into *d; 0, or -1 when it is not such a list */
int delay_parse(const char *text, struct delay_dist *d);
/* the delay for u uniform in [0, 1): linear interpolation between the quantiles around u x N */
int64_t delay_at(const struct delay_dist *d, double u);
/* a uniform draw in [0, 1) from a xorshift64* state (never 0) */
double fwd_uniform(uint64_t *state);

/* ---- FIFO of queued packets ---- */
#define FWD_PKT_MAX 1500 /* longer datagrams are not queued: they go at once */
struct fwd_pkt {
  int64_t due_ns;
  int64_t t_recv_ns;
  int32_t delay_us;
  uint16_t len;
  uint8_t buf[FWD_PKT_MAX];
};
struct fwd_queue {
  struct fwd_pkt *slots;
  int cap, head, n;
  int64_t last_due_ns; /* due time of the packet before: no packet is due earlier (arrival order) */
};
/* 0, or -1 when out of memory */
int fwdq_init(struct fwd_queue *q, int cap);
void fwdq_free(struct fwd_queue *q);
/* the due time of a packet received at t_recv with delay_ns: t_recv + delay, but never before the
 * previous packet's (which it becomes) */
int64_t fwdq_next_due(struct fwd_queue *q, int64_t t_recv, int64_t delay_ns);
/* append a copy of a packet; the slot, or NULL when the queue is full or the packet too long */
struct fwd_pkt *fwdq_push(struct fwd_queue *q, const uint8_t *buf, size_t len, int64_t due_ns, int64_t t_recv_ns, int32_t delay_us);
/* the oldest packet, or NULL */
static inline struct fwd_pkt *fwdq_head(const struct fwd_queue *q) { return q->n > 0 ? &q->slots[q->head] : NULL; }
void fwdq_pop(struct fwd_queue *q);

#endif
