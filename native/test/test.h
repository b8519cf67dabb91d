/* A tiny test harness: each test prints "ok N - name" or "not ok N - name" (TAP), failed checks
 * as "# file:line: expr" before it; the last line sums up; the exit status is 1 on any failure. */
#ifndef RTPSLA_TEST_H
#define RTPSLA_TEST_H

/* run one test function */
void t_run(const char *name, void (*fn)(void));
/* record a check of the running test; returns cond */
int t_check(int cond, const char *expr, const char *file, int line);
/* print the summary; returns the process exit status */
int t_done(void);

#define CHECK(cond) t_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)

/* the suites */
void rtp_tests(void);
void pace_tests(void);
void fwd_tests(void);
void heap_tests(void);
void out_tests(void);

#endif
