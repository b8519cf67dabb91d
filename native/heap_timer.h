/* One absolute timerfd (CLOCK_MONOTONIC) per role, armed for the least key of the role's heap:
 * the echo's held packets and streams, and the sources' frames and forwarded packets. */
#ifndef RTPSLA_HEAP_TIMER_H
#define RTPSLA_HEAP_TIMER_H

#include <stdint.h>
#include "heap.h"
#include "loop.h"

struct heap_timer {
  struct handle h; /* h.type: the role's timer handle type; h.fd -1 until opened */
  int64_t at_ns;   /* what it is armed for (0: disarmed, -1: unknown) */
};
#define HEAP_TIMER_INIT(handle_type) {.h = {.type = (handle_type), .fd = -1}, .at_ns = -1}

/* create the timerfd and add it to the loop (once); 0 or -errno */
int heap_timer_open(struct heap_timer *t);
/* arm it for the least key of `heap` (disarm when the heap is empty); no syscall when unchanged */
void heap_timer_arm(struct heap_timer *t, const struct heap *heap);
/* it fired: read its expirations; returns now (CLOCK_MONOTONIC ns) */
int64_t heap_timer_fired(struct heap_timer *t);

#endif
