/* Forwarding: delay quantiles, their interpolation, and the link FIFO's order. */
#include "test.h"
#include "../fwd.h"

#include <string.h>

#define US 1000LL

static void parse_quantiles(void) {
  struct delay_dist d;
  CHECK(delay_parse("1000,2000,4000", &d) == 0);
  CHECK(d.n == 3 && d.q_ns[0] == 1000 * US && d.q_ns[1] == 2000 * US && d.q_ns[2] == 4000 * US);
  CHECK(delay_parse("500", &d) == 0 && d.n == 1 && d.q_ns[0] == 500 * US);
  CHECK(delay_parse("0, 10.5", &d) == 0 && d.n == 2 && d.q_ns[1] == 10500);
}

static void parse_rejects(void) {
  struct delay_dist d;
  CHECK(delay_parse("", &d) != 0);
  CHECK(delay_parse(NULL, &d) != 0);
  CHECK(delay_parse("2000,1000", &d) != 0); /* decreasing */
  CHECK(delay_parse("-1,5", &d) != 0);
  CHECK(delay_parse("1,,2", &d) != 0);
  CHECK(delay_parse("1,2,", &d) != 0);
  CHECK(delay_parse("1;2", &d) != 0);
  char many[1024] = "0";
  for (int i = 0; i < 101; i++) strcat(many, ",1"); /* 102 quantiles */
  CHECK(delay_parse(many, &d) != 0);
}

static void interpolation(void) {
  struct delay_dist d;
  delay_parse("1000,2000,4000", &d); /* p0, p50, p100 */
  CHECK(delay_at(&d, 0.0) == 1000 * US);
  CHECK(delay_at(&d, 0.25) == 1500 * US); /* halfway between p0 and p50 */
  CHECK(delay_at(&d, 0.5) == 2000 * US);
  CHECK(delay_at(&d, 0.75) == 3000 * US);
  CHECK(delay_at(&d, 0.999999) < 4000 * US && delay_at(&d, 0.999999) > 3990 * US);
  CHECK(delay_at(&d, 1.0) == 4000 * US);
  struct delay_dist none = {0};
  CHECK(delay_at(&none, 0.7) == 0);
}

static void uniform_draws(void) {
  uint64_t st = 12345;
  double lo = 1, hi = 0, sum = 0;
  for (int i = 0; i < 10000; i++) {
    double u = fwd_uniform(&st);
    if (u < lo) lo = u;
    if (u > hi) hi = u;
    sum += u;
  }
  CHECK(lo >= 0 && hi < 1);
  CHECK(lo < 0.01 && hi > 0.99);
  CHECK(sum / 10000 > 0.48 && sum / 10000 < 0.52);
}

static void due_never_earlier(void) {
  struct fwd_queue q;
  CHECK(fwdq_init(&q, 4) == 0);
  /* packet 1 drawn 30 ms, packet 2 (20 ms later) drawn 5 ms: it waits for packet 1 */
  CHECK(fwdq_next_due(&q, 1000 * US, 30000 * US) == 31000 * US);
  CHECK(fwdq_next_due(&q, 21000 * US, 5000 * US) == 31000 * US);
  CHECK(fwdq_next_due(&q, 41000 * US, 5000 * US) == 46000 * US);
  fwdq_free(&q);
}

static void fifo_order(void) {
  struct fwd_queue q;
  CHECK(fwdq_init(&q, 3) == 0);
  uint8_t a[2] = {1, 1}, b[3] = {2, 2, 2}, c[1] = {3}, d[1] = {4};
  CHECK(fwdq_head(&q) == NULL);
  CHECK(fwdq_push(&q, a, 2, 10, 1, 9) != NULL);
  CHECK(fwdq_push(&q, b, 3, 20, 2, 18) != NULL);
  CHECK(fwdq_push(&q, c, 1, 30, 3, 27) != NULL);
  CHECK(fwdq_push(&q, d, 1, 40, 4, 36) == NULL); /* full */
  struct fwd_pkt *p = fwdq_head(&q);
  CHECK(p != NULL && p->due_ns == 10 && p->len == 2 && p->buf[0] == 1 && p->t_recv_ns == 1 && p->delay_us == 9);
  fwdq_pop(&q);
  CHECK(fwdq_push(&q, d, 1, 40, 4, 36) != NULL); /* wraps around the ring */
  p = fwdq_head(&q);
  CHECK(p->due_ns == 20 && p->len == 3 && p->buf[2] == 2);
  fwdq_pop(&q);
  CHECK(fwdq_head(&q)->buf[0] == 3);
  fwdq_pop(&q);
  CHECK(fwdq_head(&q)->buf[0] == 4 && fwdq_head(&q)->due_ns == 40);
  fwdq_pop(&q);
  CHECK(fwdq_head(&q) == NULL && q.n == 0);
  fwdq_free(&q);
}

static void too_long_not_queued(void) {
  struct fwd_queue q;
  static uint8_t big[FWD_PKT_MAX + 1];
  CHECK(fwdq_init(&q, 2) == 0);
  CHECK(fwdq_push(&q, big, FWD_PKT_MAX + 1, 1, 1, 0) == NULL);
  CHECK(fwdq_push(&q, big, FWD_PKT_MAX, 1, 1, 0) != NULL);
  fwdq_free(&q);
}

void fwd_tests(void) {
  t_run("fwd: delayQuantilesUs parses into ns quantiles", parse_quantiles);
  t_run("fwd: delayQuantilesUs rejects empty, decreasing, negative, malformed, over 101", parse_rejects);
  t_run("fwd: a draw interpolates linearly between evenly spaced quantiles", interpolation);
  t_run("fwd: uniform draws cover [0, 1)", uniform_draws);
  t_run("fwd: a packet is never due before the one received before it", due_never_earlier);
  t_run("fwd: the link queue is first in, first out, and bounded", fifo_order);
  t_run("fwd: a datagram over the slot size is not queued", too_long_not_queued);
}
