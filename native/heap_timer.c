#include "heap_timer.h"
#include "io.h"

#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

int heap_timer_open(struct heap_timer *t) {
  if (t->h.fd >= 0) return 0;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return -errno;
  t->h.fd = fd;
  if (loop_add(&t->h, EPOLLIN) < 0) {
    int e = errno;
    close(fd);
    t->h.fd = -1;
    return -e;
  }
  return 0;
}

void heap_timer_arm(struct heap_timer *t, const struct heap *heap) {
  if (t->h.fd < 0) return;
  struct heap_item *top = heap_top(heap);
  int64_t at = top != NULL ? top->key : 0;
  if (at == t->at_ns) return;
  struct itimerspec its = {0};
  if (at > 0) {
    its.it_value.tv_sec = at / 1000000000LL;
    its.it_value.tv_nsec = at % 1000000000LL;
  }
  timerfd_settime(t->h.fd, TFD_TIMER_ABSTIME, &its, NULL);
  t->at_ns = at;
}

int64_t heap_timer_fired(struct heap_timer *t) {
  uint64_t expirations;
  while (read(t->h.fd, &expirations, sizeof expirations) > 0) {
  }
  t->at_ns = -1;
  return mono_ns();
}
