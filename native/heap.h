/* A binary min-heap of items by an int64 key (the sources' next due times): no I/O. */
#ifndef RTPSLA_HEAP_H
#define RTPSLA_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* embedded in what the heap orders */
struct heap_item {
  int64_t key;
  size_t index;
  int in_heap;
};
struct heap {
  struct heap_item **a;
  size_t n, cap;
};

/* insert the item with key, or move it to key when it is in already; 0, or -1 when out of memory */
int heap_set(struct heap *h, struct heap_item *it, int64_t key);
/* take the item out (no-op when it is not in) */
void heap_remove(struct heap *h, struct heap_item *it);
/* the item with the least key, or NULL */
static inline struct heap_item *heap_top(const struct heap *h) { return h->n > 0 ? h->a[0] : NULL; }
void heap_free(struct heap *h);

#endif
