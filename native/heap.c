/* Binary min-heap (see heap.h). */
#include "heap.h"

#include <stdlib.h>

static void put(struct heap *h, size_t i, struct heap_item *it) {
  h->a[i] = it;
  it->index = i;
}

static void sift_up(struct heap *h, size_t i) {
  struct heap_item *it = h->a[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (h->a[p]->key <= it->key) break;
    put(h, i, h->a[p]);
    i = p;
  }
  put(h, i, it);
}

static void sift_down(struct heap *h, size_t i) {
  struct heap_item *it = h->a[i];
  for (;;) {
    size_t l = 2 * i + 1;
    if (l >= h->n) break;
    size_t c = (l + 1 < h->n && h->a[l + 1]->key < h->a[l]->key) ? l + 1 : l;
    if (h->a[c]->key >= it->key) break;
    put(h, i, h->a[c]);
    i = c;
  }
  put(h, i, it);
}

int heap_set(struct heap *h, struct heap_item *it, int64_t key) {
  if (it->in_heap) {
    int64_t was = it->key;
    it->key = key;
    if (key < was) sift_up(h, it->index);
    else if (key > was) sift_down(h, it->index);
    return 0;
  }
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 256;
    struct heap_item **p = realloc(h->a, cap * sizeof *p);
    if (p == NULL) return -1;
    h->a = p;
    h->cap = cap;
  }
  it->key = key;
  it->in_heap = 1;
  put(h, h->n++, it);
  sift_up(h, it->index);
  return 0;
}

void heap_remove(struct heap *h, struct heap_item *it) {
  if (!it->in_heap) return;
  it->in_heap = 0;
  size_t i = it->index;
  struct heap_item *last = h->a[--h->n];
  if (last != it) {
    put(h, i, last);
    sift_down(h, i);
    sift_up(h, last->index);
  }
}

void heap_free(struct heap *h) {
  free(h->a);
  h->a = NULL;
  h->n = h->cap = 0;
}
