/*
 * rtpsla native media engine: one thread, one epoll loop. It owns the relay, echo and sim source
 * UDP sockets, forwards datagrams in native code, stamps each with the kernel's receive time and
 * its own send time, and streams fixed-size records to the Node control plane over stdout.
 * Commands arrive as JSON lines on stdin. See PROTOCOL.md.
 *
 * This file is the top: main(), the stdin command lines, scheduling and CPU affinity, the epoll
 * wait loop and the role table that dispatches commands and events to the roles (relay.c, echo.c,
 * source.c). The roles sit on io.c (clock, sockets, datagram batches), loop.c (epoll
 * registration), out.c (stdout frames), ctl.c (JSON commands, replies) and rtp.c.
 */
#include "engine.h"
#include "ctl.h"
#include "echo.h"
#include "io.h"
#include "loop.h"
#include "out.h"
#include "relay.h"
#include "source.h"

#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* ------------------------------------------------------------------------------------------ */
/* the role table                                                                               */

struct role {
  const char *prefix; /* of its commands */
  void (*command)(const char *cmd, double id, const struct json_obj *o);
  void (*readable)(struct handle *h, int64_t now); /* an event on one of its handles */
  void (*housekeeping)(int64_t now);               /* every ~100 ms, or NULL */
  int handle_types[2];                             /* the handle types it owns (-1 = none) */
};

static const struct role g_roles[] = {
    {"relay.", relay_command, relay_on_readable, NULL, {H_RELAY, -1}},
    {"echo.", echo_command, echo_on_readable, echo_housekeeping, {H_ECHO, H_ECHO_TIMER}},
    {"source.", source_command, source_on_readable, NULL, {H_SOURCE, H_SOURCE_TIMER}},
};
#define N_ROLES (sizeof g_roles / sizeof g_roles[0])

static const struct role *role_for_handle(int type) {
  for (size_t r = 0; r < N_ROLES; r++)
    for (int k = 0; k < 2; k++)
      if (g_roles[r].handle_types[k] == type) return &g_roles[r];
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* control                                                                                      */

static uint64_t g_loops;

static void engine_stats(double id) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  struct io_counters io = io_counters();
  char extra[768];
  snprintf(extra, sizeof extra,
           "\"relays\":%d,\"mmsg\":%s,\"recordsSent\":%llu,\"recordsDropped\":%llu,\"loops\":%llu,"
           "\"rxCalls\":%llu,\"rxDatagrams\":%llu,\"txCalls\":%llu,\"txDatagrams\":%llu,"
           "\"cpuUserUs\":%lld,\"cpuSysUs\":%lld,\"monoNs\":%lld,\"tsKernel\":%llu,\"tsUser\":%llu,\"tsUnset\":%llu",
           relay_count(), io_use_mmsg() ? "true" : "false", (unsigned long long)out_records_sent(),
           (unsigned long long)out_records_dropped(), (unsigned long long)g_loops, (unsigned long long)io.rx_calls,
           (unsigned long long)io.rx_datagrams, (unsigned long long)io.tx_calls, (unsigned long long)io.tx_datagrams,
           (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
           (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, (long long)mono_ns(),
           (unsigned long long)io.ts_kernel, (unsigned long long)io.ts_user, (unsigned long long)io.ts_unset);
  reply_ok(id, extra);
}

static void handle_line(char *line) {
  static struct json_obj o;
  if (*line == 0) return;
  double id = -1;
  if (json_parse_flat(line, &o) != 0) return reply_err(-1, "EINVAL", "command is not a flat JSON object");
  json_num(&o, "id", &id);
  const char *cmd = json_str(&o, "cmd");
  if (cmd == NULL) return reply_err(id, "EINVAL", "missing cmd");
  for (size_t r = 0; r < N_ROLES; r++)
    if (strncmp(cmd, g_roles[r].prefix, strlen(g_roles[r].prefix)) == 0) return g_roles[r].command(cmd, id, &o);
  if (strcmp(cmd, "stats") == 0) return engine_stats(id);
  if (strcmp(cmd, "probe.timestamps") == 0) {
    char extra[128];
    snprintf(extra, sizeof extra, "\"timestamps\":\"%s\"", io_probe_timestamps());
    return reply_ok(id, extra);
  }
  reply_err(id, "EINVAL", "unknown command");
}

#define IN_CAP (1 << 20)
static char g_in[IN_CAP];
static size_t g_in_len;

/* handle the complete lines in g_in and keep the rest */
static void stdin_lines(void) {
  size_t start = 0;
  for (size_t i = 0; i < g_in_len; i++) {
    if (g_in[i] == '\n') {
      g_in[i] = 0;
      handle_line(g_in + start);
      start = i + 1;
    }
  }
  if (start > 0) {
    memmove(g_in, g_in + start, g_in_len - start);
    g_in_len -= start;
  } else if (g_in_len >= IN_CAP - 1) {
    g_in_len = 0; /* a line longer than 1 MiB: discard it */
    reply_err(-1, "EINVAL", "command line too long");
  }
}

static void stdin_readable(void) {
  for (;;) {
    ssize_t r = read(0, g_in + g_in_len, IN_CAP - 1 - g_in_len);
    if (r == 0) {
      /* the control plane closed our stdin: flush and leave */
      out_drain_blocking();
      exit(0);
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    g_in_len += (size_t)r;
    stdin_lines();
  }
}

/*
 * The engine is the instrument: a packet waiting for the engine to be scheduled is the relay's own
 * hold. Where the OS allows it (root, CAP_SYS_NICE or RLIMIT_RTPRIO) the engine runs SCHED_FIFO at a
 * low real-time priority, as rtpengine's --scheduling=fifo does, so it preempts the Node processes
 * sharing its CPUs; the kernel's RT throttling still leaves others 5 % of every second. The priority
 * is RTPSLA_ENGINE_FIFO_PRIORITY (1-99, default 10; the echo gets 11 and a relay pinned to a CPU
 * it shares with them 12: src/engine/engine-select.ts). Else it asks for
 * nice -10, else it runs as it is. `RTPSLA_ENGINE_SCHED=normal` turns this off. Returns what is in
 * effect, for the ready event ("fifo:10", "nice:-10" or "normal").
 */
static const char *engine_set_scheduling(const char *want, const char *priority) {
  static char fifo[16];
  if (want != NULL && strcmp(want, "normal") == 0) return "normal";
  int prio = 10;
  if (priority != NULL && *priority) {
    char *end;
    long v = strtol(priority, &end, 10);
    if (*end == 0 && v >= 1 && v <= 99) prio = (int)v;
  }
  struct sched_param sp = {.sched_priority = prio};
  if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0) {
    snprintf(fifo, sizeof fifo, "fifo:%d", prio);
    return fifo;
  }
  if (setpriority(PRIO_PROCESS, 0, -10) == 0) return "nice:-10";
  return "normal";
}

/*
 * RTPSLA_ENGINE_CPUS: a CPU list ("1", "0-1", "0,2-3") the engine pins itself to. On a VM a
 * datagram sent to a process asleep on another CPU costs an inter-processor interrupt on both
 * sides; engines that hand packets to each other on one CPU do not pay it (docs/design.md).
 * Returns 0 (also when unset), or -1 with the reason on stderr.
 */
static int engine_set_affinity(const char *list, char *shown, size_t shownsz) {
  snprintf(shown, shownsz, "all");
  if (list == NULL || *list == 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  const char *p = list;
  for (;;) {
    char *end;
    long a = strtol(p, &end, 10);
    if (end == p || a < 0 || a >= CPU_SETSIZE) goto bad;
    long b = a;
    p = end;
    if (*p == '-') {
      b = strtol(p + 1, &end, 10);
      if (end == p + 1 || b < a || b >= CPU_SETSIZE) goto bad;
      p = end;
    }
    for (long c = a; c <= b; c++) CPU_SET((int)c, &set);
    if (*p == 0) break;
    if (*p != ',') goto bad;
    p++;
  }
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    fprintf(stderr, "rtpsla-engine: RTPSLA_ENGINE_CPUS=%s: cannot pin: %s\n", list, strerror(errno));
    return -1;
  }
  snprintf(shown, shownsz, "%s", list);
  return 0;
bad:
  fprintf(stderr, "rtpsla-engine: RTPSLA_ENGINE_CPUS=%s is not a CPU list such as 1 or 0-1\n", list);
  return -1;
}

/* the ready event, once at start */
static void engine_ready(const char *sched, const char *cpus) {
  char ready[512], cpus_esc[256];
  json_escape(cpus, cpus_esc, sizeof cpus_esc);
  int n = snprintf(ready, sizeof ready,
                   "{\"event\":\"ready\",\"version\":%d,\"pid\":%d,\"mmsg\":%s,\"scheduling\":\"%s\",\"cpus\":\"%s\",\"timestamps\":\"%s\",\"monoNs\":%lld}",
                   ENGINE_PROTOCOL_VERSION, (int)getpid(), io_use_mmsg() ? "true" : "false", sched, cpus_esc,
                   io_kernel_timestamps() ? "kernel" : "user", (long long)mono_ns());
  out_frame(FRAME_EVENT, ready, (size_t)n);
}

static void engine_dispatch(struct handle *h, int64_t now) {
  if (h->fd < 0) return; /* closed by a command earlier in this batch */
  if (h->type == H_STDIN) return stdin_readable();
  if (h->type == H_STDOUT) return out_try_write();
  const struct role *r = role_for_handle(h->type);
  if (r != NULL) r->readable(h, now);
}

static void engine_housekeeping(int64_t now) {
  for (size_t r = 0; r < N_ROLES; r++)
    if (g_roles[r].housekeeping != NULL) g_roles[r].housekeeping(now);
}

static void engine_run(void) {
  struct epoll_event evs[128];
  int64_t next_housekeeping = mono_ns();
  for (;;) {
    int nev = loop_wait(evs, 128, out_timeout_ms(mono_ns(), 250));
    g_loops++;
    io_sample_clock();
    int64_t now = mono_ns();
    for (int i = 0; i < nev; i++) {
      struct handle *h = evs[i].data.ptr;
      h->events = evs[i].events;
      engine_dispatch(h, now);
    }
    loop_free_retired();
    now = mono_ns();
    out_flush_if_due(now, nev <= 0);
    if (now >= next_housekeeping) {
      engine_housekeeping(now);
      next_housekeeping = now + 100000000LL;
    }
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  /*
   * The engine lives as long as its parent holds its stdin open: a Ctrl-C or a SIGTERM sent to
   * the whole process group (a terminal, systemd) is for the parent, which stops the engine in
   * its own time (records flushed); a parent that dies takes the engine with it.
   */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_TIMERSLACK, 1UL);
  const char *mm = getenv("RTPSLA_ENGINE_MMSG");
  char cpus[128];
  if (engine_set_affinity(getenv("RTPSLA_ENGINE_CPUS"), cpus, sizeof cpus) != 0) return 1;
  const char *sched = engine_set_scheduling(getenv("RTPSLA_ENGINE_SCHED"), getenv("RTPSLA_ENGINE_FIFO_PRIORITY"));
  const char *ts = getenv("RTPSLA_ENGINE_TIMESTAMPS");
  if (io_init(!(mm != NULL && strcmp(mm, "0") == 0), !(ts != NULL && strcmp(ts, "user") == 0)) != 0 || loop_open() != 0) {
    fprintf(stderr, "rtpsla-engine: cannot start: %s\n", strerror(errno));
    return 1;
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  out_open(1);
  static struct handle in_h = {.type = H_STDIN, .fd = 0};
  if (loop_add(&in_h, EPOLLIN) < 0) {
    fprintf(stderr, "rtpsla-engine: stdin cannot be polled: %s\n", strerror(errno));
    return 1;
  }
  io_sample_clock();
  engine_ready(sched, cpus);
  engine_run();
}
