/* Clock, UDP sockets and datagram batch I/O with kernel receive timestamps (see io.h). */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static int g_kernel_ts = 1;
static struct io_counters g_io;

/* ---- clock ---- */

static int64_t g_real_minus_mono;

int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void io_sample_clock(void) {
  struct timespec r, m;
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &m);
  g_real_minus_mono = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

int64_t real_to_mono(int64_t real_ns) { return real_ns - g_real_minus_mono; }

/* ---- sockets ---- */

int sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
  }
  return 0;
}

socklen_t sockaddr_len(const struct sockaddr_storage *a) {
  return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int sockaddr_parse(const char *ip, int port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (ip == NULL || port < 0 || port > 65535) return -1;
  struct sockaddr_in *v4 = (void *)out;
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return 0;
  }
  struct sockaddr_in6 *v6 = (void *)out;
  if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return 0;
  }
  return -1;
}

int udp_open(const struct sockaddr_storage *addr, int buffer_bytes) {
  int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  if (g_kernel_ts && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) g_io.ts_unset++;
  if (addr->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (buffer_bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  if (bind(fd, (const struct sockaddr *)addr, sockaddr_len(addr)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int udp_local_port(int fd) {
  struct sockaddr_storage local;
  socklen_t ll = sizeof local;
  memset(&local, 0, sizeof local);
  getsockname(fd, (struct sockaddr *)&local, &ll);
  return ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port : ((struct sockaddr_in *)&local)->sin_port);
}

int sock_buffer(int fd, int opt) {
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0) return 0;
  return v / 2;
}

/* ---- datagram batch I/O ---- */

struct rx_batch {
  int n;
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  struct sockaddr_storage from[RX_BATCH];
  char ctrl[RX_BATCH][64];
  int64_t t_recv_ns[RX_BATCH];
};

static struct rx_batch g_rx;
static uint8_t *g_rx_buf; /* RX_BATCH * RX_BUF_BYTES */
static int g_use_mmsg = 1;

int io_init(int use_mmsg, int kernel_timestamps) {
  g_use_mmsg = use_mmsg;
  g_kernel_ts = kernel_timestamps;
  if (g_rx_buf == NULL) g_rx_buf = malloc((size_t)RX_BATCH * RX_BUF_BYTES);
  return g_rx_buf == NULL ? -1 : 0;
}

int io_use_mmsg(void) { return g_use_mmsg; }

int io_kernel_timestamps(void) { return g_kernel_ts; }

struct io_counters io_counters(void) { return g_io; }

static int64_t cmsg_time(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      g_io.ts_kernel++;
      return real_to_mono((int64_t)t.tv_sec * 1000000000LL + t.tv_nsec);
    }
  }
  g_io.ts_user++; /* no kernel time: the read time stands in (counted, reported per engine) */
  return mono_ns();
}

const char *io_probe_timestamps(void) {
  static char result[96];
  struct sockaddr_storage addr;
  sockaddr_parse("127.0.0.1", 0, &addr);
  int fd = udp_open(&addr, 0);
  if (fd < 0) {
    snprintf(result, sizeof result, "failed: %s", strerror(-fd));
    return result;
  }
  struct sockaddr_storage self;
  socklen_t len = sizeof self;
  getsockname(fd, (struct sockaddr *)&self, &len);
  uint64_t kernel_before = g_io.ts_kernel;
  const char *probe = "rtpsla-probe";
  int n = 0;
  if (sendto(fd, probe, strlen(probe), 0, (struct sockaddr *)&self, len) >= 0)
    for (int tries = 0; tries < 100 && n == 0; tries++) {
      n = rx_receive(fd);
      if (n == 0) usleep(1000);
    }
  close(fd);
  if (n == 0) snprintf(result, sizeof result, "failed: the probe datagram did not arrive");
  else snprintf(result, sizeof result, "%s", g_io.ts_kernel > kernel_before ? "kernel" : "user");
  return result;
}

static void rx_prepare(int i) {
  g_rx.iov[i].iov_base = g_rx_buf + (size_t)i * RX_BUF_BYTES;
  g_rx.iov[i].iov_len = RX_BUF_BYTES;
  g_rx.msgs[i].msg_hdr = (struct msghdr){
      .msg_name = &g_rx.from[i],
      .msg_namelen = sizeof g_rx.from[i],
      .msg_iov = &g_rx.iov[i],
      .msg_iovlen = 1,
      .msg_control = g_rx.ctrl[i],
      .msg_controllen = sizeof g_rx.ctrl[i],
  };
  g_rx.msgs[i].msg_len = 0;
}

int rx_receive(int fd) {
  int n;
  g_io.rx_calls++;
  if (g_use_mmsg) {
    for (int i = 0; i < RX_BATCH; i++) rx_prepare(i);
    n = recvmmsg(fd, g_rx.msgs, RX_BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) n = 0;
  } else {
    rx_prepare(0);
    ssize_t r = recvmsg(fd, &g_rx.msgs[0].msg_hdr, MSG_DONTWAIT);
    if (r < 0) {
      n = 0;
    } else {
      g_rx.msgs[0].msg_len = (unsigned)r;
      n = 1;
    }
  }
  for (int i = 0; i < n; i++) g_rx.t_recv_ns[i] = cmsg_time(&g_rx.msgs[i].msg_hdr);
  g_rx.n = n;
  g_io.rx_datagrams += (uint64_t)n;
  return n;
}

struct rx_dgram rx_at(int i) {
  return (struct rx_dgram){g_rx_buf + (size_t)i * RX_BUF_BYTES, g_rx.msgs[i].msg_len, &g_rx.from[i], g_rx.t_recv_ns[i]};
}

/* recvmmsg returning less than a full batch saw the socket empty; recvmsg reads until EAGAIN */
int rx_socket_drained(int n) { return g_use_mmsg && n < RX_BATCH; }

int64_t tx_flush(int fd, struct tx_batch *tx) {
  int n = tx->n;
  /*
   * Stamped as the datagrams go to the kernel, not after the send returns: a peer on the other
   * CPU (or one the kernel runs at once) can answer before sendmmsg returns, and a later stamp
   * would make that round trip shorter than it was, down to below zero.
   */
  int64_t t_sent = mono_ns();
  if (n == 0) return t_sent;
  if (g_use_mmsg) {
    int i = 0;
    while (i < n) {
      g_io.tx_calls++;
      int r = sendmmsg(fd, tx->msgs + i, (unsigned)(n - i), MSG_DONTWAIT);
      if (r <= 0) {
        tx->ok[i] = 0; /* this message failed; carry on with the next */
        i++;
        continue;
      }
      for (int k = 0; k < r; k++) tx->ok[i + k] = 1;
      i += r;
    }
  } else {
    for (int i = 0; i < n; i++) {
      g_io.tx_calls++;
      tx->ok[i] = sendmsg(fd, &tx->msgs[i].msg_hdr, MSG_DONTWAIT) >= 0;
    }
  }
  g_io.tx_datagrams += (uint64_t)n;
  tx->n = 0;
  return t_sent;
}
