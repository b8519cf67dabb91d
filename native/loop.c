/* epoll loop registration (see loop.h). */
#include "loop.h"

#include <stdlib.h>
#include <unistd.h>

static int g_epfd = -1;
static struct handle **g_retired;
static size_t g_retired_n, g_retired_cap;

int loop_open(void) {
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  return g_epfd < 0 ? -1 : 0;
}

int loop_add(struct handle *h, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = h};
  return epoll_ctl(g_epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

void loop_del(struct handle *h) { epoll_ctl(g_epfd, EPOLL_CTL_DEL, h->fd, NULL); }

void loop_retire(struct handle *h) {
  loop_del(h);
  close(h->fd);
  h->fd = -1;
  if (g_retired_n == g_retired_cap) {
    size_t cap = g_retired_cap ? g_retired_cap * 2 : 64;
    struct handle **p = realloc(g_retired, cap * sizeof *p);
    if (p == NULL) return; /* leak one object rather than risk a dangling pointer */
    g_retired = p;
    g_retired_cap = cap;
  }
  g_retired[g_retired_n++] = h;
}

void loop_free_retired(void) {
  for (size_t i = 0; i < g_retired_n; i++) free(g_retired[i]);
  g_retired_n = 0;
}

int loop_wait(struct epoll_event *evs, int max, int timeout_ms) { return epoll_wait(g_epfd, evs, max, timeout_ms); }
