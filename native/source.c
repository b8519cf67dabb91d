/*
 * The sim's RTP media sources in the engine (as src/sim/media.ts does it in Node): one UDP socket
 * per externalMedia channel, ONE timerfd (CLOCK_MONOTONIC, TFD_TIMER_ABSTIME) for all sources,
 * armed for the earliest deadline of a min-heap of running sources. Pacing is from absolute
 * deadlines (deadline_n = start + n x frame, never drifting); every frame that is due is sent when
 * the timer fires; a source behind by more than MAX_CATCH_UP_FRAMES frames skips ahead (timestamp
 * jump + marker) instead of bursting. A resumed source continues its sequence numbers, jumps its
 * timestamp by the wall-clock gap and sets the marker.
 *
 * What comes back to the source's port is accepted from the learned peer (remoteAddress at first;
 * like Asterisk's strictrtp a new peer is learned after `probation` consecutive packets from it,
 * which are counted as foreign). Every frame sent gives a record (deadline, send time); every RTP
 * packet received from the peer gives a record with its kernel receive time and, when its SSRC and
 * sequence number match a frame sent, that frame's send time (the round trip is the difference).
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#define MAX_CATCH_UP_FRAMES 8
#define SEND_RING 1024 /* ~20 s of send times per source at 50 frames/s, indexed by seq */
#define DEFAULT_PROBATION 4

struct sent_slot {
  int32_t seq; /* -1 = empty */
  int64_t t_sent_ns;
};

struct source {
  struct handle h;
  uint32_t id;
  int port;
  int configured;
  struct sockaddr_storage remote; /* where frames go */
  struct sockaddr_storage peer;   /* whose packets are accepted (learned) */
  int has_peer;
  struct sockaddr_storage cand;
  int cand_count;
  int probation;
  uint8_t pt;
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  uint32_t samples_per_frame;
  int64_t frame_ns;
  uint8_t *payload; /* whole tone period: frame_count frames of frame_bytes */
  size_t frame_bytes;
  int frame_count;
  int frame_index;
  uint8_t *pkt; /* 12 + frame_bytes */
  int running;
  size_t heap_index;
  int64_t next_ns;
  int marker;
  int sent_any;
  int64_t last_deadline_ns;
  uint32_t last_ts;
  int32_t skipped_pending;
  uint64_t packets_sent, packets_received, foreign, malformed, send_errors, skips;
  struct sent_slot ring[SEND_RING];
  struct source *next;
};

static struct source *g_sources;
static uint32_t g_next_source_id = 1;
static struct source **g_heap;
static size_t g_heap_n, g_heap_cap;
static struct handle g_timer_h = {.type = H_SOURCE_TIMER, .fd = -1};
static int64_t g_timer_at_ns = -1;

/* ---- heap of running sources by next deadline ---- */

static void heap_set(size_t i, struct source *s) {
  g_heap[i] = s;
  s->heap_index = i;
}

static void heap_up(size_t i) {
  struct source *s = g_heap[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (g_heap[p]->next_ns <= s->next_ns) break;
    heap_set(i, g_heap[p]);
    i = p;
  }
  heap_set(i, s);
}

static void heap_down(size_t i) {
  struct source *s = g_heap[i];
  for (;;) {
    size_t l = 2 * i + 1;
    if (l >= g_heap_n) break;
    size_t c = (l + 1 < g_heap_n && g_heap[l + 1]->next_ns < g_heap[l]->next_ns) ? l + 1 : l;
    if (g_heap[c]->next_ns >= s->next_ns) break;
    heap_set(i, g_heap[c]);
    i = c;
  }
  heap_set(i, s);
}

static int heap_push(struct source *s) {
  if (g_heap_n == g_heap_cap) {
    size_t cap = g_heap_cap ? g_heap_cap * 2 : 256;
    struct source **p = realloc(g_heap, cap * sizeof *p);
    if (p == NULL) return -1;
    g_heap = p;
    g_heap_cap = cap;
  }
  heap_set(g_heap_n++, s);
  heap_up(s->heap_index);
  return 0;
}

static void heap_remove(struct source *s) {
  size_t i = s->heap_index;
  struct source *last = g_heap[--g_heap_n];
  if (last != s) {
    heap_set(i, last);
    heap_down(i);
    heap_up(last->heap_index);
  }
}

/* arm the one timer for the earliest deadline (disarm when nothing runs) */
static void timer_arm(void) {
  if (g_timer_h.fd < 0) return;
  int64_t at = g_heap_n > 0 ? g_heap[0]->next_ns : 0;
  if (at == g_timer_at_ns) return;
  struct itimerspec its = {0};
  if (at > 0) {
    its.it_value.tv_sec = at / 1000000000LL;
    its.it_value.tv_nsec = at % 1000000000LL;
  }
  timerfd_settime(g_timer_h.fd, TFD_TIMER_ABSTIME, &its, NULL);
  g_timer_at_ns = at;
}

static int timer_open(void) {
  if (g_timer_h.fd >= 0) return 0;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return -errno;
  g_timer_h.fd = fd;
  if (loop_add(&g_timer_h, EPOLLIN) < 0) {
    int e = errno;
    close(fd);
    g_timer_h.fd = -1;
    return -e;
  }
  return 0;
}

/* ---- sending ---- */

static void source_send_due(struct source *s) {
  uint8_t *b = s->pkt;
  b[1] = (uint8_t)((s->marker ? 0x80 : 0) | (s->pt & 0x7f));
  b[2] = (uint8_t)(s->seq >> 8);
  b[3] = (uint8_t)s->seq;
  b[4] = (uint8_t)(s->ts >> 24);
  b[5] = (uint8_t)(s->ts >> 16);
  b[6] = (uint8_t)(s->ts >> 8);
  b[7] = (uint8_t)s->ts;
  memcpy(b + 12, s->payload + (size_t)s->frame_index * s->frame_bytes, s->frame_bytes);
  size_t len = 12 + s->frame_bytes;
  /*
   * Stamped as the packet goes to the kernel, not after sendto returns: where the relay and echo
   * run above the sim on its CPU, the whole round trip can complete inside this sendto, and a
   * later stamp would make it look shorter than it was (down to 0).
   */
  int64_t t_sent = mono_ns();
  ssize_t w = sendto(s->h.fd, b, len, MSG_DONTWAIT, (const struct sockaddr *)&s->remote, sockaddr_len(&s->remote));
  struct record rec = {0};
  rec.id = s->id;
  rec.kind = REC_SRC_SENT;
  rec.pt = s->pt;
  rec.flags = s->marker ? REC_F_MARKER : 0;
  rec.seq = s->seq;
  rec.size = (uint16_t)len;
  rec.ts = s->ts;
  rec.ssrc = s->ssrc;
  rec.t_recv_ns = s->next_ns;
  rec.t_sent_ns = t_sent;
  rec.aux = s->skipped_pending;
  if (w < 0) {
    rec.flags |= REC_F_SEND_FAILED;
    s->send_errors++;
  }
  out_record(&rec);
  struct sent_slot *slot = &s->ring[s->seq & (SEND_RING - 1)];
  slot->seq = s->seq;
  slot->t_sent_ns = t_sent;
  s->packets_sent++;
  s->sent_any = 1;
  s->marker = 0;
  s->skipped_pending = 0;
  s->last_deadline_ns = s->next_ns;
  s->last_ts = s->ts;
  s->seq++;
  s->ts += s->samples_per_frame;
  if (++s->frame_index == s->frame_count) s->frame_index = 0;
  s->next_ns += s->frame_ns;
}

/* far behind: skip the missed frames like a timestamp jump (marker on the next frame) */
static void source_skip_to(struct source *s, int64_t now) {
  int64_t frames = (now - s->next_ns) / s->frame_ns + 1;
  s->next_ns += frames * s->frame_ns;
  s->ts += (uint32_t)(frames * s->samples_per_frame);
  s->marker = 1;
  s->skipped_pending += (int32_t)frames;
  s->skips++;
}

void source_on_timer(struct handle *h) {
  uint64_t expirations;
  while (read(h->fd, &expirations, sizeof expirations) > 0) {
  }
  g_timer_at_ns = -1;
  /* one clock reading per pass: a source sends at most MAX_CATCH_UP_FRAMES + 1 frames in it */
  int64_t now = mono_ns();
  while (g_heap_n > 0) {
    struct source *s = g_heap[0];
    if (s->next_ns > now) break;
    if (now - s->next_ns > MAX_CATCH_UP_FRAMES * s->frame_ns) source_skip_to(s, now);
    else source_send_due(s);
    heap_down(0);
  }
  timer_arm();
}

static void source_start(struct source *s, int64_t start_ns) {
  s->next_ns = start_ns;
  if (s->sent_any) {
    /* resumed after a stop: seq continues, ts jumps by the wall-clock gap, marker set */
    int64_t gap = s->next_ns - s->last_deadline_ns;
    int64_t frames = gap >= 0 ? (gap + s->frame_ns / 2) / s->frame_ns : 0;
    if (frames < 1) frames = 1;
    s->ts = s->last_ts + (uint32_t)(frames * s->samples_per_frame);
    s->marker = 1;
  }
  s->running = 1;
}

/* ---- receiving ---- */

void source_on_readable(struct handle *h) {
  struct source *s = (struct source *)h;
  for (;;) {
    int n = rx_receive(s->h.fd);
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      const struct rx_dgram dg = rx_at(i);
      struct record rec = {0};
      rec.id = s->id;
      rec.size = dg.len > 0xffff ? 0xffff : (uint16_t)dg.len;
      rec.t_recv_ns = dg.t_recv_ns;
      if (!s->has_peer || !sockaddr_equal(dg.from, &s->peer)) {
        if (s->cand_count > 0 && sockaddr_equal(dg.from, &s->cand)) {
          s->cand_count++;
        } else {
          s->cand = *dg.from;
          s->cand_count = 1;
        }
        if (s->cand_count < s->probation) {
          rec.kind = REC_SRC_FOREIGN;
          s->foreign++;
          out_record(&rec);
          continue;
        }
        s->peer = *dg.from; /* learned (strictrtp) */
        s->has_peer = 1;
        s->cand_count = 0;
      }
      struct rtp p;
      int reason = rtp_parse(dg.buf, dg.len, &p);
      if (reason != 0) {
        rec.kind = REC_SRC_MALFORMED;
        rec.aux = reason;
        s->malformed++;
        out_record(&rec);
        continue;
      }
      s->packets_received++;
      rec.kind = REC_SRC_RECEIVED;
      rec.pt = p.pt;
      rec.flags = p.marker ? REC_F_MARKER : 0;
      rec.seq = p.seq;
      rec.ts = p.ts;
      rec.ssrc = p.ssrc;
      if (p.ssrc == s->ssrc) {
        struct sent_slot *slot = &s->ring[p.seq & (SEND_RING - 1)];
        if (slot->seq == (int32_t)p.seq) {
          rec.t_sent_ns = slot->t_sent_ns;
          slot->seq = -1; /* one round-trip sample per frame sent */
        }
      }
      out_record(&rec);
    }
    if (g_use_mmsg && n < RX_BATCH) return;
  }
}

/* ---- commands ---- */

static int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static struct source *source_find(double id) {
  for (struct source *s = g_sources; s != NULL; s = s->next)
    if ((double)s->id == id) return s;
  return NULL;
}

static void source_counters(const struct source *s, char *buf, size_t sz) {
  snprintf(buf, sz,
           "\"sourceId\":%u,\"packetsSent\":%llu,\"packetsReceived\":%llu,\"foreign\":%llu,\"malformed\":%llu,"
           "\"sendErrors\":%llu,\"skips\":%llu",
           s->id, (unsigned long long)s->packets_sent, (unsigned long long)s->packets_received,
           (unsigned long long)s->foreign, (unsigned long long)s->malformed, (unsigned long long)s->send_errors,
           (unsigned long long)s->skips);
}

/* the stream's members (source.setup, or source.open with remoteAddress); NULL or an error text */
static const char *source_setup(struct source *s, const struct json_obj *o) {
  double remote_port = -1, pt = -1, ssrc = -1, first_seq = 0, first_ts = -1, spf = -1, frame_us = 20000, frame_bytes = -1,
         probation = DEFAULT_PROBATION;
  json_num(o, "remotePort", &remote_port);
  json_num(o, "pt", &pt);
  json_num(o, "ssrc", &ssrc);
  json_num(o, "firstSeq", &first_seq);
  json_num(o, "firstTs", &first_ts);
  json_num(o, "samplesPerFrame", &spf);
  json_num(o, "frameUs", &frame_us);
  json_num(o, "payloadBytes", &frame_bytes);
  json_num(o, "probation", &probation);
  if (s->running || s->sent_any) return "the source has already sent: setup comes before source.start";
  struct sockaddr_storage remote;
  if (sockaddr_parse(json_str(o, "remoteAddress"), (int)remote_port, &remote) != 0 || remote_port < 1)
    return "remoteAddress/remotePort is not a numeric address and port";
  if (pt < 0 || pt > 127 || ssrc < 0 || ssrc > 4294967295.0 || first_seq < 0 || first_seq > 65535 || spf < 1 || spf > 65535 ||
      frame_us < 1000 || frame_us > 1000000 || probation < 1 || probation > 1000)
    return "pt, ssrc, firstSeq, samplesPerFrame, frameUs or probation out of range";
  const char *hex = json_str(o, "payloadHex");
  size_t hex_len = hex ? strlen(hex) : 0;
  if (hex_len == 0 || hex_len % 2 != 0) return "payloadHex is not a non-empty even-length hex string";
  size_t total = hex_len / 2;
  size_t fb = frame_bytes < 0 ? total : (size_t)frame_bytes;
  if (fb == 0 || fb > 1500 || total % fb != 0) return "payloadBytes must divide the payload (one frame, at most 1500 bytes)";
  uint8_t *payload = malloc(total);
  uint8_t *pkt = malloc(12 + fb);
  if (payload == NULL || pkt == NULL) {
    free(payload);
    free(pkt);
    return "out of memory";
  }
  for (size_t i = 0; i < total; i++) {
    int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(payload);
      free(pkt);
      return "payloadHex is not hex";
    }
    payload[i] = (uint8_t)(hi << 4 | lo);
  }
  free(s->payload);
  free(s->pkt);
  s->payload = payload;
  s->pkt = pkt;
  s->frame_bytes = fb;
  s->frame_count = (int)(total / fb);
  s->frame_index = 0;
  s->remote = remote;
  s->peer = remote;
  s->has_peer = 1;
  s->cand_count = 0;
  s->probation = (int)probation;
  s->pt = (uint8_t)pt;
  s->ssrc = (uint32_t)ssrc;
  s->seq = (uint16_t)first_seq;
  s->samples_per_frame = (uint32_t)spf;
  s->ts = first_ts < 0 ? (uint32_t)spf : (uint32_t)first_ts; /* first timestamp: one frame (recorded) */
  s->frame_ns = (int64_t)(frame_us * 1000);
  pkt[0] = 0x80;
  pkt[8] = (uint8_t)(s->ssrc >> 24);
  pkt[9] = (uint8_t)(s->ssrc >> 16);
  pkt[10] = (uint8_t)(s->ssrc >> 8);
  pkt[11] = (uint8_t)s->ssrc;
  s->configured = 1;
  return NULL;
}

static void source_free(struct source *s) {
  free(s->payload);
  free(s->pkt);
  s->payload = s->pkt = NULL;
}

void source_command(const char *cmd, double id, const struct json_obj *o) {
  char extra[512];
  if (strcmp(cmd, "source.open") == 0) {
    double port = -1, buffer = 262144;
    json_num(o, "port", &port);
    json_num(o, "bufferBytes", &buffer);
    struct sockaddr_storage addr;
    if (sockaddr_parse(json_str(o, "bindIp"), (int)port, &addr) != 0) return reply_err(id, "EINVAL", "bindIp/port is not a numeric address and port");
    int te = timer_open();
    if (te < 0) return reply_err(id, errno_name(-te), strerror(-te));
    struct source *s = calloc(1, sizeof *s);
    if (s == NULL) return reply_err(id, "ENOMEM", "out of memory");
    for (int i = 0; i < SEND_RING; i++) s->ring[i].seq = -1;
    if (json_str(o, "remoteAddress") != NULL) {
      s->h.fd = -1;
      const char *bad = source_setup(s, o);
      if (bad != NULL) {
        source_free(s);
        free(s);
        return reply_err(id, "EINVAL", bad);
      }
    }
    int fd = udp_open(&addr, buffer > 0 && buffer < 1 << 30 ? (int)buffer : 262144);
    if (fd < 0) {
      source_free(s);
      free(s);
      return reply_err(id, errno_name(-fd), strerror(-fd));
    }
    s->h.type = H_SOURCE;
    s->h.fd = fd;
    s->id = g_next_source_id++;
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &ll);
    s->port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port : ((struct sockaddr_in *)&local)->sin_port);
    if (loop_add(&s->h, EPOLLIN) < 0) {
      int e = errno;
      close(fd);
      source_free(s);
      free(s);
      return reply_err(id, errno_name(e), strerror(e));
    }
    s->next = g_sources;
    g_sources = s;
    snprintf(extra, sizeof extra, "\"sourceId\":%u,\"port\":%d", s->id, s->port);
    return reply_ok(id, extra);
  }
  double sid = -1;
  json_num(o, "sourceId", &sid);
  struct source *s = source_find(sid);
  if (s == NULL) return reply_err(id, "ENOENT", "no such source");
  if (strcmp(cmd, "source.setup") == 0) {
    const char *bad = source_setup(s, o);
    return bad != NULL ? reply_err(id, "EINVAL", bad) : reply_ok(id, NULL);
  }
  if (strcmp(cmd, "source.start") == 0) {
    if (!s->configured) return reply_err(id, "EINVAL", "source.setup first");
    if (s->running) return reply_ok(id, NULL);
    double at_us = -1, delay_us = -1;
    json_num(o, "startAtUs", &at_us);
    json_num(o, "delayUs", &delay_us);
    int64_t start_ns = at_us >= 0 ? (int64_t)(at_us * 1000) : mono_ns() + (int64_t)((delay_us > 0 ? delay_us : 0) * 1000);
    source_start(s, start_ns);
    if (heap_push(s) < 0) {
      s->running = 0;
      return reply_err(id, "ENOMEM", "out of memory");
    }
    timer_arm();
    return reply_ok(id, NULL);
  }
  if (strcmp(cmd, "source.stop") == 0) {
    if (s->running) {
      s->running = 0;
      heap_remove(s);
      timer_arm();
    }
    return reply_ok(id, NULL);
  }
  if (strcmp(cmd, "source.stats") == 0) {
    source_counters(s, extra, sizeof extra);
    return reply_ok(id, extra);
  }
  if (strcmp(cmd, "source.close") == 0) {
    source_on_readable(&s->h); /* whatever already arrived is still recorded */
    if (s->running) {
      s->running = 0;
      heap_remove(s);
      timer_arm();
    }
    source_counters(s, extra, sizeof extra);
    for (struct source **pp = &g_sources; *pp != NULL; pp = &(*pp)->next)
      if (*pp == s) {
        *pp = s->next;
        break;
      }
    source_free(s);
    loop_retire(&s->h);
    return reply_ok(id, extra);
  }
  reply_err(id, "EINVAL", "unknown command");
}
