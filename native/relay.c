/*
 * The relay role: a datagram from the call's Asterisk address:port goes to the echo (kind up), one
 * from the echo address:port goes back to Asterisk (kind back); anything else is foreign: counted,
 * recorded, dropped. A datagram that is not RTP is malformed: counted, recorded with its reason,
 * never forwarded. After relay.drain, up packets are ignored and back packets are recorded but not
 * forwarded.
 */
#include "relay.h"
#include "engine.h"
#include "io.h"
#include "out.h"
#include "rtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/errqueue.h>

struct relay {
  struct handle h;
  uint32_t id;
  int port;
  struct sockaddr_storage echo;
  struct sockaddr_storage ast;
  int has_ast;
  int draining;
  uint64_t forwarded_up, forwarded_back, send_errors, foreign, malformed;
  uint64_t unreachable; /* ICMP port/host unreachable for datagrams sent to the media server (IP_RECVERR) */
  struct relay *next;
};

static struct relay *g_relays;
static uint32_t g_next_id = 1;
static int g_relay_count;
static struct tx_batch g_tx;

int relay_count(void) { return g_relay_count; }

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

/*
 * Classify one datagram into *rec and queue it on g_tx when it is to be forwarded (*txidx = its
 * index, else -1). Returns 0 when the datagram gives no record (up while draining), else 1.
 */
static int relay_classify(struct relay *r, const struct rx_dgram *dg, struct record *rec, int *txidx) {
  memset(rec, 0, sizeof *rec);
  rec->id = r->id;
  rec->size = dg->len > 0xffff ? 0xffff : (uint16_t)dg->len;
  rec->t_recv_ns = dg->t_recv_ns;
  *txidx = -1;
  struct rtp p = {0};
  int parse = -1;
  if (r->has_ast && sockaddr_equal(dg->from, &r->ast)) {
    if (r->draining) return 0;
    parse = relay_parse(r, rec, dg, &p);
    if (parse == 0) {
      rec->kind = REC_UP;
      *txidx = g_tx.n;
      tx_add(&g_tx, dg->buf, dg->len, &r->echo, sockaddr_len(&r->echo));
    }
  } else if (sockaddr_equal(dg->from, &r->echo)) {
    parse = relay_parse(r, rec, dg, &p);
    if (parse == 0) {
      rec->kind = REC_BACK;
      if (r->has_ast && !r->draining) {
        *txidx = g_tx.n;
        tx_add(&g_tx, dg->buf, dg->len, &r->ast, sockaddr_len(&r->ast));
      } else {
        rec->flags |= REC_F_NOT_FORWARDED;
      }
    }
  } else {
    rec->kind = REC_FOREIGN;
    r->foreign++;
    return 1;
  }
  if (parse == 0) {
    rec->pt = p.pt;
    rec->flags |= p.marker ? REC_F_MARKER : 0;
    rec->seq = p.seq;
    rec->ts = p.ts;
    rec->ssrc = p.ssrc;
  }
  return 1;
}

/*
 * The kernel's reports of datagrams that could not be delivered (IP_RECVERR): an ICMP port
 * unreachable for a datagram sent to the media server means nothing listens there. Read them all
 * (this also clears the socket's pending error, which would otherwise fail the next send).
 */
static void relay_read_errors(struct relay *r) {
  for (;;) {
    struct sockaddr_storage to;
    char ctrl[256];
    uint8_t data[64];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr m = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
    if (recvmsg(r->h.fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
      if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))) continue;
      const struct sock_extended_err *e = (const struct sock_extended_err *)CMSG_DATA(c);
      if ((e->ee_errno == ECONNREFUSED || e->ee_errno == EHOSTUNREACH) && sockaddr_equal(&to, &r->echo)) r->unreachable++;
    }
  }
}

static void relay_drain_socket(struct relay *r) {
  struct record recs[RX_BATCH];
  int txidx[RX_BATCH];
  /* the error queue is read only when epoll says it holds something: no syscall per wakeup */
  if (r->h.events & EPOLLERR) relay_read_errors(r);
  for (;;) {
    int n = rx_receive(r->h.fd);
    if (n == 0) return;
    int nrec = 0;
    for (int i = 0; i < n; i++) {
      const struct rx_dgram dg = rx_at(i);
      nrec += relay_classify(r, &dg, &recs[nrec], &txidx[nrec]);
    }
    int64_t t_sent = tx_flush(r->h.fd, &g_tx);
    for (int k = 0; k < nrec; k++) {
      struct record *rec = &recs[k];
      if (txidx[k] >= 0) {
        rec->t_sent_ns = t_sent;
        if (g_tx.ok[txidx[k]]) {
          if (rec->kind == REC_UP) r->forwarded_up++;
          else r->forwarded_back++;
        } else {
          rec->flags |= REC_F_SEND_FAILED;
          r->send_errors++;
        }
      }
      out_record(rec);
    }
    if (rx_socket_drained(n)) return; /* one at a time: drain until EAGAIN */
  }
}

void relay_on_readable(struct handle *h, int64_t now) {
  (void)now;
  relay_drain_socket((struct relay *)h);
}

static void relay_counters(const struct relay *r, char *buf, size_t sz) {
  snprintf(buf, sz,
           "\"relayId\":%u,\"forwardedUp\":%llu,\"forwardedBack\":%llu,\"sendErrors\":%llu,\"foreign\":%llu,\"malformed\":%llu,"
           "\"unreachable\":%llu",
           r->id, (unsigned long long)r->forwarded_up, (unsigned long long)r->forwarded_back,
           (unsigned long long)r->send_errors, (unsigned long long)r->foreign, (unsigned long long)r->malformed,
           (unsigned long long)r->unreachable);
}

static void relay_open(double id, const struct json_obj *o) {
  char extra[512];
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
  r->port = udp_local_port(fd);
  int one = 1;
  if (echo_addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
  else setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
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
  reply_ok(id, extra);
}

static void relay_close(double id, struct relay *r) {
  char extra[512];
  relay_drain_socket(r); /* whatever already arrived is still recorded */
  relay_counters(r, extra, sizeof extra);
  for (struct relay **pp = &g_relays; *pp != NULL; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  g_relay_count--;
  loop_retire(&r->h);
  reply_ok(id, extra);
}

void relay_command(const char *cmd, double id, const struct json_obj *o) {
  char extra[512];
  if (strcmp(cmd, "relay.open") == 0) return relay_open(id, o);
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
  if (strcmp(cmd, "relay.close") == 0) return relay_close(id, r);
  if (strcmp(cmd, "relay.stats") == 0) {
    relay_counters(r, extra, sizeof extra);
    return reply_ok(id, extra);
  }
  reply_err(id, "EINVAL", "unknown command");
}
