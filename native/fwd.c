/* Forwarding delay distribution and FIFO (see fwd.h). */
#include "fwd.h"

#include <stdlib.h>
#include <string.h>

int delay_parse(const char *text, struct delay_dist *d) {
  d->n = 0;
  const char *p = text;
  if (p == NULL || *p == 0) return -1;
  for (;;) {
    char *end;
    double us = strtod(p, &end);
    if (end == p || us < 0 || us > 60e6 || d->n == DELAY_MAX_QUANTILES) return -1;
    int64_t ns = (int64_t)(us * 1000);
    if (d->n > 0 && ns < d->q_ns[d->n - 1]) return -1;
    d->q_ns[d->n++] = ns;
    p = end;
    while (*p == ' ') p++;
    if (*p == 0) return 0;
    if (*p != ',') return -1;
    p++;
  }
}

int64_t delay_at(const struct delay_dist *d, double u) {
  if (d->n == 0) return 0;
  if (d->n == 1) return d->q_ns[0];
  if (u < 0) u = 0;
  double pos = u * (d->n - 1);
  int i = (int)pos;
  if (i >= d->n - 1) return d->q_ns[d->n - 1];
  double frac = pos - i;
  return d->q_ns[i] + (int64_t)(frac * (double)(d->q_ns[i + 1] - d->q_ns[i]));
}

double fwd_uniform(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0; /* 53 bits / 2^53 */
}

int fwdq_init(struct fwd_queue *q, int cap) {
  memset(q, 0, sizeof *q);
  q->slots = malloc((size_t)cap * sizeof *q->slots);
  if (q->slots == NULL) return -1;
  q->cap = cap;
  return 0;
}

void fwdq_free(struct fwd_queue *q) {
  free(q->slots);
  memset(q, 0, sizeof *q);
}

int64_t fwdq_next_due(struct fwd_queue *q, int64_t t_recv, int64_t delay_ns) {
  int64_t due = t_recv + delay_ns;
  if (due < q->last_due_ns) due = q->last_due_ns;
  q->last_due_ns = due;
  return due;
}

struct fwd_pkt *fwdq_push(struct fwd_queue *q, const uint8_t *buf, size_t len, int64_t due_ns, int64_t t_recv_ns, int32_t delay_us) {
  if (q->n == q->cap || len > FWD_PKT_MAX) return NULL;
  struct fwd_pkt *p = &q->slots[(q->head + q->n) % q->cap];
  q->n++;
  p->due_ns = due_ns;
  p->t_recv_ns = t_recv_ns;
  p->delay_us = delay_us;
  p->len = (uint16_t)len;
  memcpy(p->buf, buf, len);
  return p;
}

void fwdq_pop(struct fwd_queue *q) {
  if (q->n == 0) return;
  q->head = (q->head + 1) % q->cap;
  q->n--;
}
