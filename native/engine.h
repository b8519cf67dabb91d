/* rtpsla native media engine: shared declarations (see PROTOCOL.md). */
#ifndef RTPSLA_ENGINE_H
#define RTPSLA_ENGINE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define ENGINE_PROTOCOL_VERSION 1

/* stdout frame types: u32 length (LE, of type + payload) | u8 type | payload */
enum frame_type { FRAME_REPLY = 1, FRAME_EVENT = 2, FRAME_RECORDS = 3 };

/* record kinds */
enum rec_kind {
  REC_UP = 0,        /* Asterisk -> echo, forwarded */
  REC_BACK = 1,      /* echo -> Asterisk (forwarded unless flags & REC_F_NOT_FORWARDED) */
  REC_FOREIGN = 2,   /* from neither peer: dropped */
  REC_MALFORMED = 3, /* not RTP: dropped; aux = parse reason */
  REC_SEND_ERROR = 4,/* reserved: send errors are flagged on the up/back record */
  REC_ECHO = 5,      /* echo reflected a packet; aux = send - due (us, >= 0 means late) */
  /* sim media sources (source.c); id = source id */
  REC_SRC_SENT = 6,      /* a frame sent: t_recv_ns = its deadline, t_sent_ns = after the send; aux = frames skipped before it */
  REC_SRC_RECEIVED = 7,  /* RTP from the learned peer: t_sent_ns = send time of the same SSRC+seq (0 = none) */
  REC_SRC_FOREIGN = 8,   /* from an address not (yet) learned: dropped */
  REC_SRC_MALFORMED = 9  /* not RTP: aux = parse reason */
};
#define REC_F_MARKER 1u
#define REC_F_SEND_FAILED 2u
#define REC_F_NOT_FORWARDED 4u
#define REC_F_ARRIVED_LATE 8u

struct record {
  uint32_t id;
  uint8_t kind;
  uint8_t pt;
  uint8_t flags;
  uint8_t reserved;
  uint16_t seq;
  uint16_t size;
  uint32_t ts;
  uint32_t ssrc;
  int64_t t_recv_ns;
  int64_t t_sent_ns;
  int32_t aux;
} __attribute__((packed));
_Static_assert(sizeof(struct record) == 40, "record is 40 bytes");

/* RTP header fields (RFC 3550 5.1) */
struct rtp {
  uint8_t pt;
  uint8_t marker;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
};
/* 0 = RTP, else reason (same codes as RtpParse in src/rtp/packet.ts) */
int rtp_parse(const uint8_t *b, size_t len, struct rtp *out);

/* ---- clock ---- */
int64_t mono_ns(void);
/* kernel receive time (CLOCK_REALTIME ns from SO_TIMESTAMPNS) -> CLOCK_MONOTONIC ns */
int64_t real_to_mono(int64_t real_ns);

/* ---- event loop registration: every epoll data.ptr points at a struct handle ---- */
enum handle_type { H_STDIN, H_STDOUT, H_RELAY, H_ECHO, H_TIMER, H_SOURCE, H_SOURCE_TIMER };
struct handle {
  int type;
  int fd;
};
int loop_add(struct handle *h, uint32_t events);
void loop_del(struct handle *h);
/* close the handle's fd now and free the malloc'd object it heads once the current batch of
 * epoll events is handled (a later event of the same batch may still point at it) */
void loop_retire(struct handle *h);

/* ---- datagram batch I/O (recvmmsg / sendmmsg or one-at-a-time) ---- */
#define RX_BATCH 32
#define RX_BUF_BYTES 65536
struct rx_batch {
  int n;
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  struct sockaddr_storage from[RX_BATCH];
  char ctrl[RX_BATCH][64];
  int64_t t_recv_ns[RX_BATCH];
};
extern struct rx_batch g_rx;
extern uint8_t *g_rx_buf; /* RX_BATCH * RX_BUF_BYTES */
extern int g_use_mmsg;
/* receive up to RX_BATCH datagrams into g_rx (non-blocking); returns count (0 when none) */
int rx_receive(int fd);
/* datagram i of the batch rx_receive just filled */
struct rx_dgram {
  const uint8_t *buf;
  size_t len;
  const struct sockaddr_storage *from;
  int64_t t_recv_ns;
};
static inline struct rx_dgram rx_at(int i) {
  return (struct rx_dgram){g_rx_buf + (size_t)i * RX_BUF_BYTES, g_rx.msgs[i].msg_len, &g_rx.from[i], g_rx.t_recv_ns[i]};
}

struct tx_batch {
  int n;
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  int ok[RX_BATCH];
};
/* send the queued messages; fills ok[] (1 = sent); returns CLOCK_MONOTONIC after the send */
int64_t tx_flush(int fd, struct tx_batch *tx);
static inline void tx_add(struct tx_batch *tx, const void *buf, size_t len, const struct sockaddr_storage *to, socklen_t tolen) {
  int i = tx->n++;
  tx->iov[i].iov_base = (void *)buf;
  tx->iov[i].iov_len = len;
  tx->msgs[i].msg_hdr = (struct msghdr){.msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &tx->iov[i], .msg_iovlen = 1};
  tx->ok[i] = 0;
}

int sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
socklen_t sockaddr_len(const struct sockaddr_storage *a);
/* numeric address + port -> sockaddr; 0 on success */
int sockaddr_parse(const char *ip, int port, struct sockaddr_storage *out);
/* create, configure (SO_TIMESTAMPNS, buffers, non-blocking) and bind a UDP socket; returns fd or -errno */
int udp_open(const struct sockaddr_storage *addr, int buffer_bytes);
int sock_buffer(int fd, int opt);

/* ---- output ---- */
void out_record(const struct record *r);
void out_frame(int type, const char *payload, size_t len);
void out_flush_records(void);
extern uint64_t g_records_dropped;

/* ---- control (JSON lines) ---- */
#define JSON_MAX_MEMBERS 24
struct json_member {
  char key[32];
  int is_string;
  char *str; /* into the object's arena */
  double num;
};
#define JSON_ARENA_BYTES (1 << 20) /* a command line is at most 1 MiB, so its strings fit */
struct json_obj {
  int n;
  struct json_member m[JSON_MAX_MEMBERS];
  size_t arena_used;
  char arena[JSON_ARENA_BYTES];
};
int json_parse_flat(const char *text, struct json_obj *out);
const char *json_str(const struct json_obj *o, const char *key);
int json_num(const struct json_obj *o, const char *key, double *out);
void json_escape(const char *in, char *out, size_t outsz);

/* reply helpers */
void reply_ok(double id, const char *extra_json_members);
void reply_err(double id, const char *code, const char *message);
const char *errno_name(int e);

/* ---- echo ---- */
void echo_command(const char *cmd, double id, const struct json_obj *o);
void echo_on_readable(struct handle *h, int64_t now);
void echo_housekeeping(int64_t now);

/* ---- sim media sources ---- */
void source_command(const char *cmd, double id, const struct json_obj *o);
void source_on_readable(struct handle *h);
void source_on_timer(struct handle *h);

#endif
