/*
 * rtpsla native media engine: one thread, one epoll loop. It owns the relay (and echo) UDP
 * sockets, forwards datagrams in native code, stamps each with the kernel's receive time and
 * its own send time, and streams fixed-size records to the Node control plane over stdout.
 * Commands arrive as JSON lines on stdin. See PROTOCOL.md.
 */
#include "engine.h"
#include <sched.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* ------------------------------------------------------------------------------------------ */
/* clock                                                                                        */

static int64_t g_real_minus_mono;

int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sample_clock_offset(void) {
  struct timespec r, m;
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &m);
  g_real_minus_mono = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

int64_t real_to_mono(int64_t real_ns) { return real_ns - g_real_minus_mono; }

/* ------------------------------------------------------------------------------------------ */
/* RTP                                                                                          */

int rtp_parse(const uint8_t *b, size_t len, struct rtp *out) {
  if (len < 12) return 1;
  if ((b[0] >> 6) != 2) return 2;
  size_t off = 12 + (size_t)(b[0] & 0x0f) * 4;
  if (off > len) return 3;
  if (b[0] & 0x10) {
    if (off + 4 > len) return 4;
    size_t words = ((size_t)b[off + 2] << 8) | b[off + 3];
    off += 4 + words * 4;
    if (off > len) return 4;
  }
  if (b[0] & 0x20) {
    size_t pad = b[len - 1];
    if (pad == 0 || off + pad > len) return 5;
  }
  out->marker = b[1] >> 7;
  out->pt = b[1] & 0x7f;
  out->seq = (uint16_t)((b[2] << 8) | b[3]);
  out->ts = ((uint32_t)b[4] << 24) | ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
  out->ssrc = ((uint32_t)b[8] << 24) | ((uint32_t)b[9] << 16) | ((uint32_t)b[10] << 8) | b[11];
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* loop                                                                                         */

static int g_epfd = -1;

int loop_add(struct handle *h, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = h};
  return epoll_ctl(g_epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

void loop_del(struct handle *h) { epoll_ctl(g_epfd, EPOLL_CTL_DEL, h->fd, NULL); }

static struct handle **g_retired;
static size_t g_retired_n, g_retired_cap;

void loop_retire(struct handle *h) {
  loop_del(h);
  close(h->fd);
  h->fd = -1;
  if (g_retired_n == g_retired_cap) {
    size_t cap = g_retired_cap ? g_retired_cap * 2 : 64;
    struct handle **p = realloc(g_retired, cap * sizeof *p);
    if (p == NULL) return; /* leak one object rather than risk a dangling pointer */
    g_retired = p;
    g_retired_cap = cap;
  }
  g_retired[g_retired_n++] = h;
}

static void loop_free_retired(void) {
  for (size_t i = 0; i < g_retired_n; i++) free(g_retired[i]);
  g_retired_n = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* sockets                                                                                      */

struct rx_batch g_rx;
uint8_t *g_rx_buf;
int g_use_mmsg = 1;
static uint64_t g_rx_calls, g_rx_datagrams, g_tx_calls, g_tx_datagrams;

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
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
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

/* what the kernel gave (Linux reports twice the usable size) */
int sock_buffer(int fd, int opt) {
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0) return 0;
  return v / 2;
}

static int64_t cmsg_time(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      return real_to_mono((int64_t)t.tv_sec * 1000000000LL + t.tv_nsec);
    }
  }
  return mono_ns();
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
  g_rx_calls++;
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
  g_rx_datagrams += (uint64_t)n;
  return n;
}

int64_t tx_flush(int fd, struct tx_batch *tx) {
  int n = tx->n;
  if (n == 0) return mono_ns();
  if (g_use_mmsg) {
    int i = 0;
    while (i < n) {
      g_tx_calls++;
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
      g_tx_calls++;
      tx->ok[i] = sendmsg(fd, &tx->msgs[i].msg_hdr, MSG_DONTWAIT) >= 0;
    }
  }
  g_tx_datagrams += (uint64_t)n;
  tx->n = 0;
  return mono_ns();
}

/* ------------------------------------------------------------------------------------------ */
/* output: frames on stdout, never blocking the loop                                            */

#define REC_BATCH 8192
#define FLUSH_NS 100000000LL             /* a record waits at most ~100 ms before it is framed */
#define RECORD_BACKLOG_CAP (16u << 20)   /* unwritten bytes beyond which record batches are dropped */

static uint8_t *g_out;
static size_t g_out_len, g_out_pos, g_out_cap;
static struct record g_recs[REC_BATCH];
static int g_rec_n;
static int64_t g_rec_first_ns;
uint64_t g_records_dropped;
static uint64_t g_records_sent;
static struct handle g_stdout_h = {.type = H_STDOUT, .fd = 1};
static int g_stdout_watched, g_stdout_pollable = 1;

static void out_try_write(void);

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

static void out_try_write(void) {
  while (g_out_pos < g_out_len) {
    ssize_t w = write(1, g_out + g_out_pos, g_out_len - g_out_pos);
    if (w > 0) {
      g_out_pos += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!g_stdout_watched && g_stdout_pollable) {
        if (loop_add(&g_stdout_h, EPOLLOUT) == 0) g_stdout_watched = 1;
      }
      return;
    }
    _exit(0); /* EPIPE: the control plane is gone */
  }
  g_out_pos = g_out_len = 0;
  if (g_stdout_watched) {
    loop_del(&g_stdout_h);
    g_stdout_watched = 0;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* JSON (flat objects of strings, numbers and booleans: all the protocol needs)                 */

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
  return p;
}

static const char *parse_string(const char *p, char *out, size_t outsz) {
  if (*p != '"') return NULL;
  p++;
  size_t n = 0;
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      char e = *p++;
      switch (e) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case '"': case '\\': case '/': c = e; break;
        case 'u':
          for (int i = 0; i < 4; i++)
            if (*p) p++;
          c = '?';
          break;
        default: return NULL;
      }
    }
    if (n + 1 < outsz) out[n++] = c;
  }
  if (*p != '"') return NULL;
  out[n] = 0;
  return p + 1;
}

int json_parse_flat(const char *text, struct json_obj *o) {
  o->n = 0;
  o->arena_used = 0;
  const char *p = skip_ws(text);
  if (*p != '{') return -1;
  p = skip_ws(p + 1);
  if (*p == '}') return 0;
  for (;;) {
    if (o->n >= JSON_MAX_MEMBERS) return -1;
    struct json_member *m = &o->m[o->n];
    p = parse_string(p, m->key, sizeof m->key);
    if (p == NULL) return -1;
    p = skip_ws(p);
    if (*p != ':') return -1;
    p = skip_ws(p + 1);
    m->is_string = 0;
    m->num = 0;
    m->str = o->arena + o->arena_used;
    m->str[0] = 0;
    if (*p == '"') {
      p = parse_string(p, m->str, sizeof o->arena - o->arena_used);
      if (p == NULL) return -1;
      o->arena_used += strlen(m->str) + 1;
      m->is_string = 1;
    } else if (strncmp(p, "true", 4) == 0) {
      m->num = 1;
      p += 4;
    } else if (strncmp(p, "false", 5) == 0 || strncmp(p, "null", 4) == 0) {
      p += (*p == 'f') ? 5 : 4;
    } else {
      char *end;
      m->num = strtod(p, &end);
      if (end == p) return -1;
      p = end;
    }
    o->n++;
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == '}') return 0;
    return -1;
  }
}

const char *json_str(const struct json_obj *o, const char *key) {
  for (int i = 0; i < o->n; i++)
    if (o->m[i].is_string && strcmp(o->m[i].key, key) == 0) return o->m[i].str;
  return NULL;
}

int json_num(const struct json_obj *o, const char *key, double *out) {
  for (int i = 0; i < o->n; i++)
    if (!o->m[i].is_string && strcmp(o->m[i].key, key) == 0) {
      *out = o->m[i].num;
      return 1;
    }
  return 0;
}

void json_escape(const char *in, char *out, size_t outsz) {
  size_t n = 0;
  for (; *in && n + 7 < outsz; in++) {
    unsigned char c = (unsigned char)*in;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, outsz - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = 0;
}

void reply_ok(double id, const char *extra) {
  char buf[2048];
  int n = snprintf(buf, sizeof buf, "{\"id\":%.0f,\"ok\":true%s%s}", id, extra && *extra ? "," : "", extra ? extra : "");
  if (n < 0 || (size_t)n >= sizeof buf) n = snprintf(buf, sizeof buf, "{\"id\":%.0f,\"ok\":true}", id);
  out_frame(FRAME_REPLY, buf, (size_t)n);
}

void reply_err(double id, const char *code, const char *message) {
  char esc[512], buf[1024];
  json_escape(message ? message : "", esc, sizeof esc);
  int n = snprintf(buf, sizeof buf, "{\"id\":%.0f,\"ok\":false,\"error\":\"%s\",\"message\":\"%s\"}", id, code, esc);
  out_frame(FRAME_REPLY, buf, (size_t)n);
}

const char *errno_name(int e) {
  switch (e) {
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    default: return "EIO";
  }
}

/* ------------------------------------------------------------------------------------------ */
/* relay                                                                                        */

struct relay {
  struct handle h;
  uint32_t id;
  int port;
  struct sockaddr_storage echo;
  struct sockaddr_storage ast;
  int has_ast;
  int draining;
  uint64_t forwarded_up, forwarded_back, send_errors, foreign, malformed;
  struct relay *next;
};

static struct relay *g_relays;
static uint32_t g_next_id = 1;
static int g_relay_count;
static struct tx_batch g_tx;

static struct relay *relay_find(double id) {
  for (struct relay *r = g_relays; r != NULL; r = r->next)
    if ((double)r->id == id) return r;
  return NULL;
}

/* parse a datagram from one of the relay's peers; a malformed one is recorded and counted (0: RTP) */
static int relay_parse(struct relay *r, struct record *rec, const struct rx_dgram *dg, struct rtp *p) {
  int parse = rtp_parse(dg->buf, dg->len, p);
  if (parse != 0) {
    rec->kind = REC_MALFORMED;
    rec->aux = parse;
    r->malformed++;
  }
  return parse;
}

static void relay_on_readable(struct relay *r) {
  struct record recs[RX_BATCH];
  int txidx[RX_BATCH];
  for (;;) {
    int n = rx_receive(r->h.fd);
    if (n == 0) return;
    int nrec = 0;
    for (int i = 0; i < n; i++) {
      const struct rx_dgram dg = rx_at(i);
      struct record *rec = &recs[nrec];
      memset(rec, 0, sizeof *rec);
      rec->id = r->id;
      rec->size = dg.len > 0xffff ? 0xffff : (uint16_t)dg.len;
      rec->t_recv_ns = dg.t_recv_ns;
      txidx[nrec] = -1;
      struct rtp p = {0};
      int parse = -1;
      if (r->has_ast && sockaddr_equal(dg.from, &r->ast)) {
        if (r->draining) continue;
        parse = relay_parse(r, rec, &dg, &p);
        if (parse == 0) {
          rec->kind = REC_UP;
          txidx[nrec] = g_tx.n;
          tx_add(&g_tx, dg.buf, dg.len, &r->echo, sockaddr_len(&r->echo));
        }
      } else if (sockaddr_equal(dg.from, &r->echo)) {
        parse = relay_parse(r, rec, &dg, &p);
        if (parse == 0) {
          rec->kind = REC_BACK;
          if (r->has_ast && !r->draining) {
            txidx[nrec] = g_tx.n;
            tx_add(&g_tx, dg.buf, dg.len, &r->ast, sockaddr_len(&r->ast));
          } else {
            rec->flags |= REC_F_NOT_FORWARDED;
          }
        }
      } else {
        rec->kind = REC_FOREIGN;
        r->foreign++;
        nrec++;
        continue;
      }
      if (parse == 0) {
        rec->pt = p.pt;
        rec->flags |= p.marker ? REC_F_MARKER : 0;
        rec->seq = p.seq;
        rec->ts = p.ts;
        rec->ssrc = p.ssrc;
      }
      nrec++;
    }
    int64_t t_sent = tx_flush(r->h.fd, &g_tx);
    for (int k = 0; k < nrec; k++) {
      struct record *rec = &recs[k];
      if (txidx[k] >= 0) {
        if (g_tx.ok[txidx[k]]) {
          rec->t_sent_ns = t_sent;
          if (rec->kind == REC_UP) r->forwarded_up++;
          else r->forwarded_back++;
        } else {
          rec->t_sent_ns = t_sent;
          rec->flags |= REC_F_SEND_FAILED;
          r->send_errors++;
        }
      }
      out_record(rec);
    }
    if (g_use_mmsg && n < RX_BATCH) return; /* one at a time: drain until EAGAIN */
  }
}

static void relay_counters(const struct relay *r, char *buf, size_t sz) {
  snprintf(buf, sz,
           "\"relayId\":%u,\"forwardedUp\":%llu,\"forwardedBack\":%llu,\"sendErrors\":%llu,\"foreign\":%llu,\"malformed\":%llu",
           r->id, (unsigned long long)r->forwarded_up, (unsigned long long)r->forwarded_back,
           (unsigned long long)r->send_errors, (unsigned long long)r->foreign, (unsigned long long)r->malformed);
}

static void relay_command(const char *cmd, double id, const struct json_obj *o) {
  char extra[512];
  if (strcmp(cmd, "relay.open") == 0) {
    double port = -1, echo_port = -1, buffer = 262144;
    const char *bind_ip = json_str(o, "bindIp");
    const char *echo_ip = json_str(o, "echoAddress");
    json_num(o, "port", &port);
    json_num(o, "echoPort", &echo_port);
    json_num(o, "bufferBytes", &buffer);
    struct sockaddr_storage bind_addr, echo_addr;
    if (sockaddr_parse(bind_ip, (int)port, &bind_addr) != 0) return reply_err(id, "EINVAL", "bindIp/port is not a numeric address and port");
    if (sockaddr_parse(echo_ip, (int)echo_port, &echo_addr) != 0 || echo_port < 1)
      return reply_err(id, "EINVAL", "echoAddress/echoPort is not a numeric address and port");
    int fd = udp_open(&bind_addr, buffer > 0 && buffer < 1 << 30 ? (int)buffer : 262144);
    if (fd < 0) return reply_err(id, errno_name(-fd), strerror(-fd));
    struct relay *r = calloc(1, sizeof *r);
    if (r == NULL) {
      close(fd);
      return reply_err(id, "ENOMEM", "out of memory");
    }
    r->h.type = H_RELAY;
    r->h.fd = fd;
    r->id = g_next_id++;
    r->echo = echo_addr;
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &ll);
    r->port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port : ((struct sockaddr_in *)&local)->sin_port);
    if (loop_add(&r->h, EPOLLIN) < 0) {
      int e = errno;
      close(fd);
      free(r);
      return reply_err(id, errno_name(e), strerror(e));
    }
    r->next = g_relays;
    g_relays = r;
    g_relay_count++;
    snprintf(extra, sizeof extra, "\"relayId\":%u,\"port\":%d,\"recvBufferBytes\":%d,\"sendBufferBytes\":%d", r->id, r->port,
             sock_buffer(fd, SO_RCVBUF), sock_buffer(fd, SO_SNDBUF));
    return reply_ok(id, extra);
  }
  double rid = -1;
  json_num(o, "relayId", &rid);
  struct relay *r = relay_find(rid);
  if (r == NULL) return reply_err(id, "ENOENT", "no such relay");
  if (strcmp(cmd, "relay.setAsterisk") == 0) {
    double port = -1;
    json_num(o, "port", &port);
    struct sockaddr_storage a;
    if (sockaddr_parse(json_str(o, "address"), (int)port, &a) != 0 || port < 1)
      return reply_err(id, "EINVAL", "address/port is not a numeric address and port");
    r->ast = a;
    r->has_ast = 1;
    return reply_ok(id, NULL);
  }
  if (strcmp(cmd, "relay.drain") == 0) {
    r->draining = 1;
    return reply_ok(id, NULL);
  }
  if (strcmp(cmd, "relay.close") == 0) {
    relay_on_readable(r); /* whatever already arrived is still recorded */
    relay_counters(r, extra, sizeof extra);
    for (struct relay **pp = &g_relays; *pp != NULL; pp = &(*pp)->next)
      if (*pp == r) {
        *pp = r->next;
        break;
      }
    g_relay_count--;
    loop_retire(&r->h);
    return reply_ok(id, extra);
  }
  if (strcmp(cmd, "relay.stats") == 0) {
    relay_counters(r, extra, sizeof extra);
    return reply_ok(id, extra);
  }
  reply_err(id, "EINVAL", "unknown command");
}

/* ------------------------------------------------------------------------------------------ */
/* control                                                                                      */

static uint64_t g_loops;
static int g_echo_count_hint;

static void engine_stats(double id) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  char extra[768];
  snprintf(extra, sizeof extra,
           "\"relays\":%d,\"mmsg\":%s,\"recordsSent\":%llu,\"recordsDropped\":%llu,\"loops\":%llu,"
           "\"rxCalls\":%llu,\"rxDatagrams\":%llu,\"txCalls\":%llu,\"txDatagrams\":%llu,"
           "\"cpuUserUs\":%lld,\"cpuSysUs\":%lld,\"monoNs\":%lld",
           g_relay_count, g_use_mmsg ? "true" : "false", (unsigned long long)g_records_sent,
           (unsigned long long)g_records_dropped, (unsigned long long)g_loops, (unsigned long long)g_rx_calls,
           (unsigned long long)g_rx_datagrams, (unsigned long long)g_tx_calls, (unsigned long long)g_tx_datagrams,
           (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
           (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, (long long)mono_ns());
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
  if (strncmp(cmd, "relay.", 6) == 0) return relay_command(cmd, id, &o);
  if (strncmp(cmd, "echo.", 5) == 0) return echo_command(cmd, id, &o);
  if (strncmp(cmd, "source.", 7) == 0) return source_command(cmd, id, &o);
  if (strcmp(cmd, "stats") == 0) return engine_stats(id);
  reply_err(id, "EINVAL", "unknown command");
}

#define IN_CAP (1 << 20)
static char g_in[IN_CAP];
static size_t g_in_len;

static void stdin_readable(void) {
  for (;;) {
    ssize_t r = read(0, g_in + g_in_len, IN_CAP - 1 - g_in_len);
    if (r == 0) {
      /* the control plane closed our stdin: flush and leave */
      out_flush_records();
      int fl = fcntl(1, F_GETFL);
      fcntl(1, F_SETFL, fl & ~O_NONBLOCK);
      while (g_out_pos < g_out_len) {
        ssize_t w = write(1, g_out + g_out_pos, g_out_len - g_out_pos);
        if (w <= 0 && errno != EINTR) break;
        if (w > 0) g_out_pos += (size_t)w;
      }
      exit(0);
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    g_in_len += (size_t)r;
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

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  prctl(PR_SET_TIMERSLACK, 1UL);
  const char *mm = getenv("RTPSLA_ENGINE_MMSG");
  if (mm != NULL && strcmp(mm, "0") == 0) g_use_mmsg = 0;
  char cpus[128];
  if (engine_set_affinity(getenv("RTPSLA_ENGINE_CPUS"), cpus, sizeof cpus) != 0) return 1;
  const char *sched = engine_set_scheduling(getenv("RTPSLA_ENGINE_SCHED"), getenv("RTPSLA_ENGINE_FIFO_PRIORITY"));
  g_rx_buf = malloc((size_t)RX_BATCH * RX_BUF_BYTES);
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  if (g_rx_buf == NULL || g_epfd < 0) {
    fprintf(stderr, "rtpsla-engine: cannot start: %s\n", strerror(errno));
    return 1;
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
#ifdef F_SETPIPE_SZ
  fcntl(1, F_SETPIPE_SZ, 1 << 20);
#endif
  struct epoll_event probe = {.events = EPOLLOUT, .data.ptr = &g_stdout_h};
  if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, 1, &probe) < 0) {
    g_stdout_pollable = 0; /* a regular file: writes never block anyway */
    fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
  } else {
    epoll_ctl(g_epfd, EPOLL_CTL_DEL, 1, NULL);
  }
  static struct handle in_h = {.type = H_STDIN, .fd = 0};
  if (loop_add(&in_h, EPOLLIN) < 0) {
    fprintf(stderr, "rtpsla-engine: stdin cannot be polled: %s\n", strerror(errno));
    return 1;
  }
  sample_clock_offset();
  char ready[512], cpus_esc[256];
  json_escape(cpus, cpus_esc, sizeof cpus_esc);
  int n = snprintf(ready, sizeof ready,
                   "{\"event\":\"ready\",\"version\":%d,\"pid\":%d,\"mmsg\":%s,\"scheduling\":\"%s\",\"cpus\":\"%s\",\"monoNs\":%lld}",
                   ENGINE_PROTOCOL_VERSION, (int)getpid(), g_use_mmsg ? "true" : "false", sched, cpus_esc, (long long)mono_ns());
  out_frame(FRAME_EVENT, ready, (size_t)n);
  (void)g_echo_count_hint;

  struct epoll_event evs[128];
  int64_t next_housekeeping = mono_ns();
  for (;;) {
    int timeout = 250;
    int64_t now = mono_ns();
    if (g_rec_n > 0) {
      int64_t left = g_rec_first_ns + FLUSH_NS - now;
      timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    int nev = epoll_wait(g_epfd, evs, 128, timeout);
    g_loops++;
    sample_clock_offset();
    now = mono_ns();
    for (int i = 0; i < nev; i++) {
      struct handle *h = evs[i].data.ptr;
      if (h->fd < 0) continue; /* closed by a command earlier in this batch */
      switch (h->type) {
        case H_RELAY: relay_on_readable((struct relay *)h); break;
        case H_ECHO:
        case H_TIMER: echo_on_readable(h, now); break;
        case H_SOURCE: source_on_readable(h); break;
        case H_SOURCE_TIMER: source_on_timer(h); break;
        case H_STDIN: stdin_readable(); break;
        case H_STDOUT: out_try_write(); break;
        default: break;
      }
    }
    loop_free_retired();
    now = mono_ns();
    if (g_rec_n > 0 && (nev <= 0 || now - g_rec_first_ns >= FLUSH_NS)) {
      out_flush_records();
      out_try_write();
    }
    if (now >= next_housekeeping) {
      echo_housekeeping(now);
      next_housekeeping = now + 100000000LL;
    }
  }
}
