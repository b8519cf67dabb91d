/*
 * The echo role: every RTP datagram goes back to its sender, byte-identical, at max(now, due)
 * with due = t0' + (ts - ts0) / clock_rate per source (address, port, SSRC) and t0' the source's
 * anchor (pace.h): the phase of its first packet, moved earlier only when two consecutive packets
 * settle earlier. A packet before its slot waits in its source's hold queue (echo_hold.c); one at
 * or after it goes in the same loop iteration. Idle sources expire.
 */
#include "echo.h"
#include "echo_int.h"
#include "engine.h"
#include "io.h"
#include "out.h"
#include "pace.h"
#include "rtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>

#define LATE_TOLERANCE_NS 1000000LL

static struct echo *g_echoes;
static uint32_t g_next_echo_id = 1;
static struct tx_batch g_etx;

static uint64_t source_hash(const struct sockaddr_storage *a, uint32_t ssrc) {
  uint64_t h = ssrc * 0x9E3779B97F4A7C15ULL;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const void *)a;
    h ^= ((uint64_t)v4->sin_addr.s_addr << 16 | v4->sin_port) * 0xC2B2AE3D27D4EB4FULL;
  } else if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const void *)a;
    uint64_t x[2];
    memcpy(x, &v6->sin6_addr, 16);
    h ^= (x[0] * 0xC2B2AE3D27D4EB4FULL) ^ (x[1] * 0x165667B19E3779F9ULL) ^ v6->sin6_port;
  }
  return h ^ (h >> 29);
}

static void echo_grow(struct echo *e) {
  size_t n = e->nbuckets * 2;
  struct source **b = calloc(n, sizeof *b);
  if (b == NULL) return; /* keep chaining in the smaller table */
  for (size_t i = 0; i < e->nbuckets; i++) {
    struct source *s = e->buckets[i];
    while (s != NULL) {
      struct source *next = s->next;
      size_t k = source_hash(&s->addr, s->ssrc) & (n - 1);
      s->next = b[k];
      b[k] = s;
      s = next;
    }
  }
  free(e->buckets);
  e->buckets = b;
  e->nbuckets = n;
}

static struct source *source_for(struct echo *e, const struct sockaddr_storage *from, const struct rtp *p, int64_t t_recv) {
  size_t k = source_hash(from, p->ssrc) & (e->nbuckets - 1);
  for (struct source *s = e->buckets[k]; s != NULL; s = s->next)
    if (s->ssrc == p->ssrc && sockaddr_equal(&s->addr, from)) return s;
  if (e->sources_active >= e->max_sources) return NULL;
  struct source *s = malloc(sizeof *s);
  if (s == NULL) return NULL;
  memset(s, 0, sizeof *s);
  s->addr = *from;
  s->ssrc = p->ssrc;
  s->e = e;
  pace_echo_start(&s->anchor, p->ts, t_recv, e->ns_per_tick[p->pt & 0x7f]);
  s->last_seen_ns = t_recv;
  s->next = e->buckets[k];
  e->buckets[k] = s;
  e->sources_active++;
  e->sources_total++;
  if (e->sources_active > e->nbuckets) echo_grow(e);
  return s;
}

/* the record of a reflected packet, before its send time */
static void echo_record(struct record *rec, const struct echo *e, const struct rtp *p, size_t len, int64_t t_recv) {
  memset(rec, 0, sizeof *rec);
  rec->id = e->id;
  rec->kind = REC_ECHO;
  rec->pt = p->pt;
  rec->flags = p->marker ? REC_F_MARKER : 0;
  rec->seq = p->seq;
  rec->ts = p->ts;
  rec->ssrc = p->ssrc;
  rec->size = len > 0xffff ? 0xffff : (uint16_t)len;
  rec->t_recv_ns = t_recv;
}

/* pace one packet of a known source: its due time; held (1) when it is before its slot */
static int echo_pace(struct echo *e, struct source *s, const struct rx_dgram *dg, struct record *rec, int64_t now, int64_t *due) {
  s->last_seen_ns = dg->t_recv_ns;
  int how;
  *due = pace_echo_due(&s->anchor, rec->ts, dg->t_recv_ns, e->max_hold_ns, &how);
  if (how == ECHO_ANCHOR_MOVED) e->anchor_moves++;
  if (how == ECHO_ANCHOR_REANCHORED) e->reanchors++;
  if (how != ECHO_ANCHOR_KEPT && s->count > 0) echo_release_due(s, now, now); /* the older ones first */
  return *due > now && echo_hold(s, dg->buf, dg->len, rec) == 0;
}

/* stream and sink modes: the packet only feeds its source (a sink counts it, a stream learns from it) */
static void echo_not_echo(struct echo *e, const struct rx_dgram *dg, const struct rtp *p) {
  struct source *s = source_for(e, dg->from, p, dg->t_recv_ns);
  if (s == NULL) {
    e->unpaced++;
    return;
  }
  if (e->mode == ECHO_MODE_STREAM) echo_stream_rx(s, p, dg->len, dg->t_recv_ns);
  s->last_seen_ns = dg->t_recv_ns;
}

/* the role's timer: each due source served by its mode (held echo packets, or a stream's frames) */
void echo_on_timer(void) { echo_release_all_due(echo_timer_fired()); }

void echo_on_readable(struct handle *h, int64_t now) {
  if (h->type == H_ECHO_TIMER) return echo_on_timer();
  struct echo *e = (struct echo *)h;
  struct record recs[RX_BATCH];
  int txidx[RX_BATCH];
  for (;;) {
    int n = rx_receive(e->h.fd);
    if (n == 0) return;
    int nrec = 0;
    now = mono_ns();
    for (int i = 0; i < n; i++) {
      const struct rx_dgram dg = rx_at(i);
      e->packets_in++;
      e->bytes_in += dg.len;
      struct rtp p;
      if (rtp_parse(dg.buf, dg.len, &p) != 0) {
        e->malformed++;
        continue;
      }
      if (e->mode != ECHO_MODE_ECHO) {
        echo_not_echo(e, &dg, &p);
        continue;
      }
      struct record *rec = &recs[nrec];
      echo_record(rec, e, &p, dg.len, dg.t_recv_ns);
      struct source *s = source_for(e, dg.from, &p, dg.t_recv_ns);
      int64_t d = dg.t_recv_ns;
      if (s == NULL) e->unpaced++;
      else if (echo_pace(e, s, &dg, rec, now, &d)) continue;
      if (dg.t_recv_ns - d > LATE_TOLERANCE_NS) {
        e->late++;
        e->arrived_late++;
        rec->flags |= REC_F_ARRIVED_LATE;
      }
      int64_t late_us = (dg.t_recv_ns - d) / 1000;
      rec->aux = late_us > INT32_MAX ? INT32_MAX : late_us < INT32_MIN ? INT32_MIN : (int32_t)late_us;
      txidx[nrec] = g_etx.n;
      tx_add(&g_etx, dg.buf, dg.len, dg.from, sockaddr_len(dg.from));
      nrec++;
    }
    int64_t t_sent = tx_flush(e->h.fd, &g_etx);
    for (int k = 0; k < nrec; k++) echo_sent(e, &recs[k], t_sent, g_etx.ok[txidx[k]]);
    /*
     * Held packets that fell due while this batch was read go now, not after the whole socket is
     * drained: a burst of hundreds of datagrams (a relay that stalled) would otherwise delay every
     * due send by the time it takes to read the burst.
     */
    echo_release_all_due(mono_ns());
    if (rx_socket_drained(n)) return;
  }
}

static void echo_sweep(struct echo *e, int64_t now) {
  int64_t cutoff = now - e->idle_expiry_ns;
  for (size_t i = 0; i < e->nbuckets; i++) {
    struct source **pp = &e->buckets[i];
    while (*pp != NULL) {
      struct source *s = *pp;
      if (s->last_seen_ns < cutoff && s->count == 0) { /* one still holding packets is not idle */
        *pp = s->next;
        echo_drop_held(s); /* out of the heap (a stream's next frame), its ring freed */
        free(s);
        e->sources_active--;
        e->sources_expired++;
      } else {
        pp = &s->next;
      }
    }
  }
}

void echo_housekeeping(int64_t now) {
  for (struct echo *e = g_echoes; e != NULL; e = e->next) {
    if (now < e->next_sweep_ns) continue;
    echo_sweep(e, now);
    e->next_sweep_ns = now + e->sweep_every_ns;
  }
}

static void echo_counters(const struct echo *e, char *buf, size_t sz) {
  snprintf(buf, sz,
           "\"echoId\":%u,\"packetsIn\":%llu,\"bytesIn\":%llu,\"packetsOut\":%llu,\"bytesOut\":%llu,\"malformed\":%llu,"
           "\"sendErrors\":%llu,\"late\":%llu,\"arrivedLate\":%llu,\"sourcesActive\":%llu,\"sourcesTotal\":%llu,"
           "\"sourcesExpired\":%llu,\"anchorMoves\":%llu,\"reanchors\":%llu,\"unpaced\":%llu,\"held\":%llu,"
           "\"queued\":%llu,\"queueOverflows\":%llu,\"maxSchedulerLagUs\":%lld",
           e->id, (unsigned long long)e->packets_in, (unsigned long long)e->bytes_in, (unsigned long long)e->packets_out,
           (unsigned long long)e->bytes_out, (unsigned long long)e->malformed, (unsigned long long)e->send_errors,
           (unsigned long long)e->late, (unsigned long long)e->arrived_late, (unsigned long long)e->sources_active,
           (unsigned long long)e->sources_total, (unsigned long long)e->sources_expired,
           (unsigned long long)e->anchor_moves, (unsigned long long)e->reanchors, (unsigned long long)e->unpaced,
           (unsigned long long)e->held, (unsigned long long)e->queued, (unsigned long long)e->queue_overflows,
           (long long)(e->max_lag_ns / 1000));
}

/* "PT=RATE,PT=RATE" (rates in Hz) into the ns-per-tick table; returns -1 on bad text */
static int parse_pt_rates(const char *text, double *table) {
  const char *p = text;
  while (p != NULL && *p) {
    char *end;
    long pt = strtol(p, &end, 10);
    if (end == p || *end != '=' || pt < 0 || pt > 127) return -1;
    p = end + 1;
    long rate = strtol(p, &end, 10);
    if (end == p || rate < 1000 || rate > 192000) return -1;
    table[pt] = 1e9 / (double)rate;
    p = end;
    if (*p == ',') p++;
    else if (*p) return -1;
  }
  return 0;
}

static void echo_free_sources(struct echo *e) {
  for (size_t i = 0; i < e->nbuckets; i++) {
    struct source *s = e->buckets[i];
    while (s != NULL) {
      struct source *next = s->next;
      echo_drop_held(s);
      free(s);
      s = next;
    }
  }
  free(e->buckets);
  e->buckets = NULL;
  e->nbuckets = 0;
}

static void echo_free(struct echo *e) {
  echo_free_sources(e);
  free(e);
}

static void echo_open(double id, const struct json_obj *o) {
  char extra[1024];
  double port = -1, buffer = 2097152, idle_ms = 10000, rate = 8000, max_sources = 100000, max_hold_ms = 2000;
  json_num(o, "port", &port);
  json_num(o, "bufferBytes", &buffer);
  json_num(o, "idleExpiryMs", &idle_ms);
  json_num(o, "clockRateHz", &rate);
  json_num(o, "maxSources", &max_sources);
  json_num(o, "maxHoldMs", &max_hold_ms);
  const char *host = json_str(o, "host");
  const char *mode = json_str(o, "mode");
  int m = mode == NULL || strcmp(mode, "echo") == 0 ? ECHO_MODE_ECHO : strcmp(mode, "stream") == 0 ? ECHO_MODE_STREAM : strcmp(mode, "sink") == 0 ? ECHO_MODE_SINK : -1;
  if (m < 0) return reply_err(id, "EINVAL", "mode is not echo, stream or sink");
  struct sockaddr_storage addr;
  if (sockaddr_parse(host, (int)port, &addr) != 0) return reply_err(id, "EINVAL", "host/port is not a numeric address and port");
  if (rate < 1000 || rate > 192000 || idle_ms < 1 || max_hold_ms < 0) return reply_err(id, "EINVAL", "clockRateHz, idleExpiryMs or maxHoldMs out of range");
  int terr = echo_timer_open();
  if (terr < 0) return reply_err(id, errno_name(-terr), strerror(-terr));
  struct echo *e = calloc(1, sizeof *e);
  if (e == NULL) return reply_err(id, "ENOMEM", "out of memory");
  for (int i = 0; i < 128; i++) e->ns_per_tick[i] = 1e9 / rate;
  const char *pt_rates = json_str(o, "ptRates");
  if (pt_rates != NULL && parse_pt_rates(pt_rates, e->ns_per_tick) != 0) {
    free(e);
    return reply_err(id, "EINVAL", "ptRates is not PT=RATE[,PT=RATE...]");
  }
  e->nbuckets = 1024;
  e->buckets = calloc(e->nbuckets, sizeof *e->buckets);
  if (e->buckets == NULL) {
    free(e);
    return reply_err(id, "ENOMEM", "out of memory");
  }
  int fd = udp_open(&addr, buffer > 0 && buffer < 1 << 30 ? (int)buffer : 2097152);
  if (fd < 0) {
    echo_free(e);
    return reply_err(id, errno_name(-fd), strerror(-fd));
  }
  e->h.type = H_ECHO;
  e->h.fd = fd;
  e->mode = m;
  e->id = g_next_echo_id++;
  e->idle_expiry_ns = (int64_t)(idle_ms * 1e6);
  e->max_hold_ns = (int64_t)(max_hold_ms * 1e6);
  int64_t sweep = e->idle_expiry_ns / 4;
  if (sweep < 20000000LL) sweep = 20000000LL;
  if (sweep > 1000000000LL) sweep = 1000000000LL;
  e->sweep_every_ns = sweep;
  e->max_sources = max_sources < 0 ? 0 : (uint64_t)max_sources;
  struct sockaddr_storage local;
  socklen_t ll = sizeof local;
  getsockname(fd, (struct sockaddr *)&local, &ll);
  if (local.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&local)->sin6_addr, e->address, sizeof e->address);
    e->port = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
  } else {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, e->address, sizeof e->address);
    e->port = ntohs(((struct sockaddr_in *)&local)->sin_port);
  }
  if (loop_add(&e->h, EPOLLIN) < 0) {
    int err = errno;
    close(fd);
    echo_free(e);
    return reply_err(id, errno_name(err), strerror(err));
  }
  e->next = g_echoes;
  g_echoes = e;
  snprintf(extra, sizeof extra, "\"echoId\":%u,\"address\":\"%s\",\"port\":%d,\"recvBufferBytes\":%d,\"sendBufferBytes\":%d", e->id,
           e->address, e->port, sock_buffer(fd, SO_RCVBUF), sock_buffer(fd, SO_SNDBUF));
  reply_ok(id, extra);
}

void echo_command(const char *cmd, double id, const struct json_obj *o) {
  char extra[1024];
  if (strcmp(cmd, "echo.open") == 0) return echo_open(id, o);
  double eid = -1;
  json_num(o, "echoId", &eid);
  struct echo *e = NULL;
  for (struct echo *x = g_echoes; x != NULL; x = x->next)
    if ((double)x->id == eid) e = x;
  if (e == NULL) return reply_err(id, "ENOENT", "no such echo");
  if (strcmp(cmd, "echo.stats") == 0) {
    echo_counters(e, extra, sizeof extra);
    return reply_ok(id, extra);
  }
  if (strcmp(cmd, "echo.close") == 0) {
    echo_counters(e, extra, sizeof extra);
    for (struct echo **pp = &g_echoes; *pp != NULL; pp = &(*pp)->next)
      if (*pp == e) {
        *pp = e->next;
        break;
      }
    echo_free_sources(e);
    loop_retire(&e->h);
    return reply_ok(id, extra);
  }
  reply_err(id, "EINVAL", "unknown command");
}
