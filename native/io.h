/* Clock, UDP sockets and datagram batch I/O with kernel receive timestamps. */
#ifndef RTPSLA_IO_H
#define RTPSLA_IO_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* ---- clock ---- */
int64_t mono_ns(void);
/* sample CLOCK_REALTIME - CLOCK_MONOTONIC (the engine does it at every loop iteration) */
void io_sample_clock(void);
/* kernel receive time (CLOCK_REALTIME ns from SO_TIMESTAMPNS) -> CLOCK_MONOTONIC ns */
int64_t real_to_mono(int64_t real_ns);

/* ---- datagram batch I/O (recvmmsg / sendmmsg, or one at a time) ---- */
#define RX_BATCH 32
#define RX_BUF_BYTES 65536
/* allocate the receive buffers; use_mmsg 0 = recvmsg/sendmsg; 0 on success, -1 (errno) on failure */
int io_init(int use_mmsg, int kernel_timestamps);
int io_use_mmsg(void);
/* receive up to RX_BATCH datagrams (non-blocking) into the shared receive batch; returns the count
 * (0 when none) */
int rx_receive(int fd);
/* datagram i of the batch rx_receive just filled (valid until the next rx_receive) */
struct rx_dgram {
  const uint8_t *buf;
  size_t len;
  const struct sockaddr_storage *from;
  int64_t t_recv_ns;
};
struct rx_dgram rx_at(int i);
/* 1 when a batch of n datagrams shows the socket is empty (no need to read it again) */
int rx_socket_drained(int n);

struct tx_batch {
  int n;
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  int ok[RX_BATCH];
};
/* send the queued messages; fills ok[] (1 = sent); returns CLOCK_MONOTONIC just before the send */
int64_t tx_flush(int fd, struct tx_batch *tx);
static inline void tx_add(struct tx_batch *tx, const void *buf, size_t len, const struct sockaddr_storage *to, socklen_t tolen) {
  int i = tx->n++;
  tx->iov[i].iov_base = (void *)buf;
  tx->iov[i].iov_len = len;
  tx->msgs[i].msg_hdr = (struct msghdr){.msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &tx->iov[i], .msg_iovlen = 1};
  tx->ok[i] = 0;
}

/* syscall and datagram counts for the engine's stats */
struct io_counters {
  uint64_t rx_calls, rx_datagrams, tx_calls, tx_datagrams;
  /* datagrams received with a kernel receive time / stamped with the read time instead, and
   * sockets on which SO_TIMESTAMPNS could not be set */
  uint64_t ts_kernel, ts_user, ts_unset;
};
struct io_counters io_counters(void);
/* whether sockets ask for kernel receive timestamps (RTPSLA_ENGINE_TIMESTAMPS=user turns it off) */
int io_kernel_timestamps(void);
/* send one datagram to a socket of our own and say how its receive time came: "kernel", "user"
 * or "failed: <reason>" */
const char *io_probe_timestamps(void);

/* ---- sockets ---- */
int sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
socklen_t sockaddr_len(const struct sockaddr_storage *a);
/* numeric address + port -> sockaddr; 0 on success */
int sockaddr_parse(const char *ip, int port, struct sockaddr_storage *out);
/* create, configure (SO_TIMESTAMPNS, buffers, non-blocking) and bind a UDP socket; returns fd or -errno */
int udp_open(const struct sockaddr_storage *addr, int buffer_bytes);
/* the port a socket is bound to */
int udp_local_port(int fd);
/* what the kernel gave for SO_RCVBUF / SO_SNDBUF (Linux reports twice the usable size) */
int sock_buffer(int fd, int opt);

#endif
