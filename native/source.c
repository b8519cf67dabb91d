/*
 * The sim's media sources role (as src/media/source/node.ts does it in Node): one UDP socket per
 * externalMedia channel, paced by source_media.c. This file holds the commands: open, setup, start,
 * stop, link / unlink (forwarding between two sources, as Asterisk's simple_bridge does), delay (a
 * fault switch adding delay to what a linked source forwards), stats and close.
 */
#include "source.h"
#include "source_int.h"
#include "engine.h"
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct source *g_sources;
static uint32_t g_next_source_id = 1;

void source_on_readable(struct handle *h, int64_t now) {
  (void)now;
  if (h->type == H_SOURCE_TIMER) source_on_timer();
  else source_drain_socket((struct source *)h);
}

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
           "\"sendErrors\":%llu,\"skips\":%llu,\"forwarded\":%llu,\"queueFull\":%llu,\"delayedByFault\":%llu",
           s->id, (unsigned long long)s->packets_sent, (unsigned long long)s->packets_received,
           (unsigned long long)s->foreign, (unsigned long long)s->malformed, (unsigned long long)s->send_errors,
           (unsigned long long)s->skips, (unsigned long long)s->forwarded, (unsigned long long)s->queue_full,
           (unsigned long long)s->delayed_by_fault);
}

/* hex (even length) into a new buffer of len/2 bytes; NULL with *bad set */
static uint8_t *hex_decode(const char *hex, size_t total, const char **bad) {
  uint8_t *payload = malloc(total);
  *bad = "out of memory";
  if (payload == NULL) return NULL;
  for (size_t i = 0; i < total; i++) {
    int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(payload);
      *bad = "payloadHex is not hex";
      return NULL;
    }
    payload[i] = (uint8_t)(hi << 4 | lo);
  }
  return payload;
}

/* the header fields and pacing of the stream (numbers already range-checked) */
static void source_apply(struct source *s, const struct sockaddr_storage *remote, const double *v, int match_ts) {
  s->remote = *remote;
  s->peer = *remote;
  s->has_peer = 1;
  s->cand_count = 0;
  s->probation = (int)v[6];
  s->match_ts = match_ts;
  s->pt = (uint8_t)v[0];
  s->ssrc = (uint32_t)v[1];
  s->seq = (uint16_t)v[2];
  s->samples_per_frame = (uint32_t)v[4];
  s->ts = v[3] < 0 ? (uint32_t)v[4] : (uint32_t)v[3]; /* first timestamp: one frame (recorded) */
  s->frame_ns = (int64_t)(v[5] * 1000);
  uint8_t *pkt = s->pkt;
  pkt[0] = 0x80;
  pkt[8] = (uint8_t)(s->ssrc >> 24);
  pkt[9] = (uint8_t)(s->ssrc >> 16);
  pkt[10] = (uint8_t)(s->ssrc >> 8);
  pkt[11] = (uint8_t)s->ssrc;
  s->configured = 1;
}

/* the stream's members (source.setup, or source.open with remoteAddress); NULL or an error text */
static const char *source_setup(struct source *s, const struct json_obj *o) {
  /* pt, ssrc, firstSeq, firstTs, samplesPerFrame, frameUs, probation */
  double v[7] = {-1, -1, 0, -1, -1, 20000, DEFAULT_PROBATION}, remote_port = -1, frame_bytes = -1;
  static const char *const keys[7] = {"pt", "ssrc", "firstSeq", "firstTs", "samplesPerFrame", "frameUs", "probation"};
  json_num(o, "remotePort", &remote_port);
  for (int i = 0; i < 7; i++) json_num(o, keys[i], &v[i]);
  json_num(o, "payloadBytes", &frame_bytes);
  if (s->running || s->sent_any) return "the source has already sent: setup comes before source.start";
  struct sockaddr_storage remote;
  if (sockaddr_parse(json_str(o, "remoteAddress"), (int)remote_port, &remote) != 0 || remote_port < 1)
    return "remoteAddress/remotePort is not a numeric address and port";
  if (v[0] < 0 || v[0] > 127 || v[1] < 0 || v[1] > 4294967295.0 || v[2] < 0 || v[2] > 65535 || v[4] < 1 || v[4] > 65535 ||
      v[5] < 1000 || v[5] > 1000000 || v[6] < 1 || v[6] > 1000)
    return "pt, ssrc, firstSeq, samplesPerFrame, frameUs or probation out of range";
  const char *match = json_str(o, "matchBy");
  if (match != NULL && strcmp(match, "seq") != 0 && strcmp(match, "ts") != 0) return "matchBy is neither \"seq\" nor \"ts\"";
  const char *hex = json_str(o, "payloadHex");
  size_t hex_len = hex ? strlen(hex) : 0;
  if (hex_len == 0 || hex_len % 2 != 0) return "payloadHex is not a non-empty even-length hex string";
  size_t total = hex_len / 2;
  size_t fb = frame_bytes < 0 ? total : (size_t)frame_bytes;
  if (fb == 0 || fb > 1500 || total % fb != 0) return "payloadBytes must divide the payload (one frame, at most 1500 bytes)";
  const char *bad;
  uint8_t *payload = hex_decode(hex, total, &bad);
  uint8_t *pkt = payload != NULL ? malloc(12 + fb) : NULL;
  if (pkt == NULL) {
    free(payload);
    return payload != NULL ? "out of memory" : bad;
  }
  free(s->payload);
  free(s->pkt);
  s->payload = payload;
  s->pkt = pkt;
  s->frame_bytes = fb;
  s->frame_count = (int)(total / fb);
  s->frame_index = 0;
  source_apply(s, &remote, v, match != NULL && strcmp(match, "ts") == 0);
  return NULL;
}

static void source_unlink(struct source *s) {
  if (s->link == NULL) return;
  fwdq_free(&s->link->q); /* what is still queued is dropped */
  free(s->link);
  s->link = NULL;
  source_reschedule(s);
}

static void source_free(struct source *s) {
  free(s->payload);
  free(s->pkt);
  s->payload = s->pkt = NULL;
}

static void source_open(double id, const struct json_obj *o) {
  char extra[512];
  double port = -1, buffer = 262144;
  json_num(o, "port", &port);
  json_num(o, "bufferBytes", &buffer);
  struct sockaddr_storage addr;
  if (sockaddr_parse(json_str(o, "bindIp"), (int)port, &addr) != 0) return reply_err(id, "EINVAL", "bindIp/port is not a numeric address and port");
  int te = source_timer_open();
  if (te < 0) return reply_err(id, errno_name(-te), strerror(-te));
  struct source *s = calloc(1, sizeof *s);
  if (s == NULL) return reply_err(id, "ENOMEM", "out of memory");
  for (int i = 0; i < SEND_RING; i++) s->ring[i].key = -1;
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
  s->port = udp_local_port(fd);
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
  reply_ok(id, extra);
}

static void source_start_cmd(double id, struct source *s, const struct json_obj *o) {
  if (!s->configured) return reply_err(id, "EINVAL", "source.setup first");
  if (s->running) return reply_ok(id, NULL);
  double at_us = -1, delay_us = -1, hold_us = 0;
  json_num(o, "startAtUs", &at_us);
  json_num(o, "delayUs", &delay_us);
  json_num(o, "holdFirstUs", &hold_us);
  if (hold_us < 0 || hold_us > 10e6) return reply_err(id, "EINVAL", "holdFirstUs out of range (0 to 10000000)");
  int64_t start_ns = at_us >= 0 ? (int64_t)(at_us * 1000) : mono_ns() + (int64_t)((delay_us > 0 ? delay_us : 0) * 1000);
  source_start(s, start_ns, (int64_t)(hold_us * 1000));
  if (source_reschedule(s) < 0) {
    s->running = 0;
    return reply_err(id, "ENOMEM", "out of memory");
  }
  reply_ok(id, NULL);
}

static void source_link_cmd(double id, struct source *s, const struct json_obj *o) {
  double to_id = -1;
  json_num(o, "toSourceId", &to_id);
  struct source *to = source_find(to_id);
  if (to == NULL) return reply_err(id, "ENOENT", "no such toSourceId");
  if (to == s) return reply_err(id, "EINVAL", "a source cannot forward to itself");
  if (!s->configured || !to->configured) return reply_err(id, "EINVAL", "source.setup both sources first");
  struct delay_dist dist = {0};
  const char *q = json_str(o, "delayQuantilesUs");
  if (q != NULL && delay_parse(q, &dist) != 0)
    return reply_err(id, "EINVAL", "delayQuantilesUs is not \"q0,q1,...,qN\" (non-decreasing µs, at most 101)");
  if (s->link == NULL) {
    struct fwd_link *l = calloc(1, sizeof *l);
    if (l == NULL || fwdq_init(&l->q, LINK_QUEUE) != 0) {
      free(l);
      return reply_err(id, "ENOMEM", "out of memory");
    }
    l->rng = ((uint64_t)mono_ns() ^ ((uint64_t)s->id << 32)) | 1;
    s->link = l;
  }
  s->link->to = to;
  s->link->dist = dist;
  reply_ok(id, NULL);
}

static void source_delay_cmd(double id, struct source *s, const struct json_obj *o) {
  double extra_us = -1, duration_us = -1;
  json_num(o, "extraUs", &extra_us);
  json_num(o, "durationUs", &duration_us);
  if (extra_us < 0 || extra_us > 60e6 || duration_us < 0 || duration_us > 86400e6)
    return reply_err(id, "EINVAL", "extraUs (0 to 60000000) or durationUs (0 to 86400000000) out of range");
  s->fault_extra_ns = (int64_t)(extra_us * 1000);
  s->fault_until_ns = mono_ns() + (int64_t)(duration_us * 1000);
  reply_ok(id, NULL);
}

static void source_close(double id, struct source *s) {
  char extra[512];
  source_drain_socket(s); /* whatever already arrived is still recorded */
  s->running = 0;
  source_unlink(s);
  source_unschedule(s);
  for (struct source *x = g_sources; x != NULL; x = x->next)
    if (x->link != NULL && x->link->to == s) source_unlink(x);
  source_counters(s, extra, sizeof extra);
  for (struct source **pp = &g_sources; *pp != NULL; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  source_free(s);
  loop_retire(&s->h);
  reply_ok(id, extra);
}

void source_command(const char *cmd, double id, const struct json_obj *o) {
  char extra[512];
  if (strcmp(cmd, "source.open") == 0) return source_open(id, o);
  double sid = -1;
  json_num(o, "sourceId", &sid);
  struct source *s = source_find(sid);
  if (s == NULL) return reply_err(id, "ENOENT", "no such source");
  if (strcmp(cmd, "source.setup") == 0) {
    const char *bad = source_setup(s, o);
    return bad != NULL ? reply_err(id, "EINVAL", bad) : reply_ok(id, NULL);
  }
  if (strcmp(cmd, "source.start") == 0) return source_start_cmd(id, s, o);
  if (strcmp(cmd, "source.stop") == 0) {
    if (s->running) {
      s->running = 0;
      source_reschedule(s);
    }
    return reply_ok(id, NULL);
  }
  if (strcmp(cmd, "source.link") == 0) return source_link_cmd(id, s, o);
  if (strcmp(cmd, "source.unlink") == 0) {
    source_unlink(s);
    return reply_ok(id, NULL);
  }
  if (strcmp(cmd, "source.delay") == 0) return source_delay_cmd(id, s, o);
  if (strcmp(cmd, "source.stats") == 0) {
    source_counters(s, extra, sizeof extra);
    return reply_ok(id, extra);
  }
  if (strcmp(cmd, "source.close") == 0) return source_close(id, s);
  reply_err(id, "EINVAL", "unknown command");
}
