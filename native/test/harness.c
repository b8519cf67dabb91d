/* Test harness (see test.h) and main. */
#include "test.h"

#include <stdio.h>

static int g_n, g_failed, g_current_failed;

int t_check(int cond, const char *expr, const char *file, int line) {
  if (!cond) {
    g_current_failed = 1;
    printf("# %s:%d: check failed: %s\n", file, line, expr);
  }
  return cond;
}

void t_run(const char *name, void (*fn)(void)) {
  g_current_failed = 0;
  fn();
  g_n++;
  if (g_current_failed) g_failed++;
  printf("%s %d - %s\n", g_current_failed ? "not ok" : "ok", g_n, name);
  fflush(stdout);
}

int t_done(void) {
  printf("# %d tests: %d ok, %d not ok\n", g_n, g_n - g_failed, g_failed);
  return g_failed > 0 ? 1 : 0;
}

int main(void) {
  rtp_tests();
  pace_tests();
  fwd_tests();
  heap_tests();
  out_tests();
  return t_done();
}
