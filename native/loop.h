/* epoll loop registration: every epoll data.ptr points at a struct handle. */
#ifndef RTPSLA_LOOP_H
#define RTPSLA_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct handle {
  int type; /* enum handle_type (engine.h): how the engine dispatches its events */
  int fd;
  uint32_t events; /* the epoll events of the dispatch in progress */
};

/* create the epoll instance; 0 on success, -1 (errno) on failure */
int loop_open(void);
int loop_add(struct handle *h, uint32_t events);
void loop_del(struct handle *h);
/* close the handle's fd now and free the malloc'd object it heads once the current batch of
 * epoll events is handled (a later event of the same batch may still point at it) */
void loop_retire(struct handle *h);
/* free what loop_retire kept (after each batch of events) */
void loop_free_retired(void);
/* epoll_wait on the loop */
int loop_wait(struct epoll_event *evs, int max, int timeout_ms);

#endif
