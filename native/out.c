/* stdout framing and back-pressure (see out.h). */
#include "out.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REC_BATCH 8192
#define FLUSH_NS 100000000LL           /* a record waits at most ~100 ms before it is framed */
#define RECORD_BACKLOG_CAP (16u << 20) /* unwritten bytes beyond which record batches are dropped */

static int g_fd = 1;
static uint8_t *g_out;
static size_t g_out_len, g_out_pos, g_out_cap;
static struct record g_recs[REC_BATCH];
static int g_rec_n;
static int64_t g_rec_first_ns;
static uint64_t g_records_dropped, g_records_sent;
static struct handle g_out_h = {.type = H_STDOUT, .fd = 1};
static int g_out_watched, g_out_pollable = 1;

void out_open(int fd) {
  g_fd = fd;
  g_out_h.fd = fd;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
#ifdef F_SETPIPE_SZ
  fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#endif
  if (loop_add(&g_out_h, EPOLLOUT) < 0) {
    g_out_pollable = 0; /* a regular file: writes never block anyway */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  } else {
    loop_del(&g_out_h);
  }
}

uint64_t out_records_sent(void) { return g_records_sent; }
uint64_t out_records_dropped(void) { return g_records_dropped; }

static int out_reserve(size_t more) {
  if (g_out_pos > 0 && g_out_pos == g_out_len) g_out_pos = g_out_len = 0;
  if (g_out_len + more <= g_out_cap) return 0;
  if (g_out_pos > 0) {
    memmove(g_out, g_out + g_out_pos, g_out_len - g_out_pos);
    g_out_len -= g_out_pos;
    g_out_pos = 0;
    if (g_out_len + more <= g_out_cap) return 0;
  }
  size_t cap = g_out_cap ? g_out_cap : 65536;
  while (cap < g_out_len + more) cap *= 2;
  uint8_t *p = realloc(g_out, cap);
  if (p == NULL) return -1;
  g_out = p;
  g_out_cap = cap;
  return 0;
}

static void out_append(int type, const void *payload, size_t len) {
  if (out_reserve(len + 5) < 0) return;
  uint32_t flen = (uint32_t)(len + 1);
  memcpy(g_out + g_out_len, &flen, 4); /* little-endian host (x86-64, aarch64) */
  g_out[g_out_len + 4] = (uint8_t)type;
  memcpy(g_out + g_out_len + 5, payload, len);
  g_out_len += len + 5;
}

void out_frame(int type, const char *payload, size_t len) {
  out_flush_records(); /* records of earlier packets go before the reply or event */
  out_append(type, payload, len);
  out_try_write();
}

void out_flush_records(void) {
  if (g_rec_n == 0) return;
  size_t bytes = (size_t)g_rec_n * sizeof(struct record);
  if (g_out_len - g_out_pos + bytes > RECORD_BACKLOG_CAP) {
    g_records_dropped += (uint64_t)g_rec_n; /* the reader is behind: keep forwarding, drop records */
  } else {
    out_append(FRAME_RECORDS, g_recs, bytes);
    g_records_sent += (uint64_t)g_rec_n;
  }
  g_rec_n = 0;
}

void out_record(const struct record *r) {
  if (g_rec_n == 0) g_rec_first_ns = r->t_recv_ns;
  g_recs[g_rec_n++] = *r;
  if (g_rec_n == REC_BATCH) {
    out_flush_records();
    out_try_write();
  }
}

void out_try_write(void) {
  while (g_out_pos < g_out_len) {
    ssize_t w = write(g_fd, g_out + g_out_pos, g_out_len - g_out_pos);
    if (w > 0) {
      g_out_pos += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!g_out_watched && g_out_pollable) {
        if (loop_add(&g_out_h, EPOLLOUT) == 0) g_out_watched = 1;
      }
      return;
    }
    _exit(0); /* EPIPE: the control plane is gone */
  }
  g_out_pos = g_out_len = 0;
  if (g_out_watched) {
    loop_del(&g_out_h);
    g_out_watched = 0;
  }
}

int out_timeout_ms(int64_t now, int max_ms) {
  if (g_rec_n == 0) return max_ms;
  int64_t left = g_rec_first_ns + FLUSH_NS - now;
  return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

void out_flush_if_due(int64_t now, int idle) {
  if (g_rec_n > 0 && (idle || now - g_rec_first_ns >= FLUSH_NS)) {
    out_flush_records();
    out_try_write();
  }
}

void out_drain_blocking(void) {
  out_flush_records();
  int fl = fcntl(g_fd, F_GETFL);
  fcntl(g_fd, F_SETFL, fl & ~O_NONBLOCK);
  while (g_out_pos < g_out_len) {
    ssize_t w = write(g_fd, g_out + g_out_pos, g_out_len - g_out_pos);
    if (w <= 0 && errno != EINTR) break;
    if (w > 0) g_out_pos += (size_t)w;
  }
}
