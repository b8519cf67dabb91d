/* The sources' min-heap. */
#include "test.h"
#include "../heap.h"

#include <stdlib.h>

static void orders_by_key(void) {
  struct heap h = {0};
  struct heap_item it[6] = {{0}};
  int64_t keys[6] = {50, 10, 40, 30, 20, 60};
  for (int i = 0; i < 6; i++) CHECK(heap_set(&h, &it[i], keys[i]) == 0);
  int64_t last = -1;
  int n = 0;
  struct heap_item *top;
  while ((top = heap_top(&h)) != NULL) {
    CHECK(top->key >= last);
    last = top->key;
    heap_remove(&h, top);
    CHECK(!top->in_heap);
    n++;
  }
  CHECK(n == 6);
  heap_free(&h);
}

static void rekey_and_remove(void) {
  struct heap h = {0};
  struct heap_item a = {0}, b = {0}, c = {0};
  heap_set(&h, &a, 10);
  heap_set(&h, &b, 20);
  heap_set(&h, &c, 30);
  CHECK(heap_top(&h) == &a);
  heap_set(&h, &a, 35); /* a's next due time moves on */
  CHECK(heap_top(&h) == &b);
  heap_set(&h, &c, 5);
  CHECK(heap_top(&h) == &c);
  heap_remove(&h, &b);
  heap_remove(&h, &b); /* no-op */
  CHECK(h.n == 2);
  heap_remove(&h, &c);
  CHECK(heap_top(&h) == &a && h.n == 1);
  heap_free(&h);
}

static void many_random(void) {
  struct heap h = {0};
  enum { N = 1000 };
  static struct heap_item it[N];
  srand(7);
  for (int i = 0; i < N; i++) heap_set(&h, &it[i], rand() % 5000);
  for (int i = 0; i < N; i += 3) heap_set(&h, &it[i], rand() % 5000);
  for (int i = 1; i < N; i += 7) heap_remove(&h, &it[i]);
  int64_t last = -1;
  int ok = 1;
  struct heap_item *top;
  while ((top = heap_top(&h)) != NULL) {
    if (top->key < last) ok = 0;
    last = top->key;
    heap_remove(&h, top);
  }
  CHECK(ok);
  heap_free(&h);
}

void heap_tests(void) {
  t_run("heap: items come out by key", orders_by_key);
  t_run("heap: an item moved to a new key or removed", rekey_and_remove);
  t_run("heap: 1000 random keys, re-keyed and removed, stay ordered", many_random);
}
