/* Record framing on the output channel: u32 LE length (type + payload) | u8 type | payload. */
#include "test.h"
#include "../out.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int g_rd = -1;

static void open_pipe(void) {
  if (g_rd >= 0) return;
  int p[2];
  if (pipe(p) != 0) return;
  g_rd = p[0];
  fcntl(g_rd, F_SETFL, fcntl(g_rd, F_GETFL) | O_NONBLOCK);
  out_open(p[1]); /* the loop is not open: written blocking, as to a file */
}

static size_t drain(uint8_t *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    ssize_t r = read(g_rd, buf + n, cap - n);
    if (r <= 0) return n;
    n += (size_t)r;
  }
}

static uint32_t le32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

static void record_batch_frame(void) {
  open_pipe();
  struct record r[3];
  memset(r, 0, sizeof r);
  for (int i = 0; i < 3; i++) {
    r[i].id = 7;
    r[i].kind = REC_SRC_FORWARDED;
    r[i].seq = (uint16_t)(100 + i);
    r[i].ts = 0x11223344u;
    r[i].t_recv_ns = 1000 + i;
    r[i].t_sent_ns = -1;
    r[i].aux = -5;
    out_record(&r[i]);
  }
  uint64_t sent = out_records_sent();
  out_flush_records();
  out_try_write();
  CHECK(out_records_sent() == sent + 3);
  uint8_t buf[1024];
  size_t n = drain(buf, sizeof buf);
  CHECK(n == 5 + 3 * 40);
  CHECK(le32(buf) == 1 + 3 * 40);
  CHECK(buf[4] == FRAME_RECORDS);
  CHECK(memcmp(buf + 5, r, 3 * 40) == 0);
  /* the record's own layout: id u32 | kind u8 | pt | flags | reserved | seq u16 | size u16 | ts u32 ... */
  CHECK(le32(buf + 5) == 7 && buf[9] == 10 && buf[13] == 100 && buf[14] == 0);
  CHECK(le32(buf + 5 + 12) == 0x11223344u && le32(buf + 5 + 20) == 1000);
  CHECK(le32(buf + 5 + 36) == (uint32_t)-5);
}

static void records_before_reply(void) {
  open_pipe();
  struct record r;
  memset(&r, 0, sizeof r);
  r.id = 9;
  out_record(&r);
  out_frame(FRAME_REPLY, "{\"id\":1}", 8);
  uint8_t buf[256];
  size_t n = drain(buf, sizeof buf);
  CHECK(n == (5 + 40) + (5 + 8));
  CHECK(le32(buf) == 41 && buf[4] == FRAME_RECORDS && le32(buf + 5) == 9);
  CHECK(le32(buf + 45) == 9 && buf[49] == FRAME_REPLY && memcmp(buf + 50, "{\"id\":1}", 8) == 0);
}

static void nothing_pending(void) {
  open_pipe();
  out_flush_records();
  out_try_write();
  uint8_t buf[16];
  CHECK(drain(buf, sizeof buf) == 0);
  CHECK(out_timeout_ms(0, 250) == 250);
  struct record r;
  memset(&r, 0, sizeof r);
  r.t_recv_ns = 1000000000LL;
  out_record(&r);
  CHECK(out_timeout_ms(1000000000LL, 250) == 100); /* framed within 100 ms of the oldest */
  CHECK(out_timeout_ms(1100000000LL, 250) == 0);
  out_flush_if_due(1050000000LL, 0); /* not due, not idle */
  CHECK(drain(buf, sizeof buf) == 0);
  out_flush_if_due(1050000000LL, 1); /* idle loop: framed */
  uint8_t big[64];
  CHECK(drain(big, sizeof big) == 45);
}

void out_tests(void) {
  t_run("out: a record batch is one frame: u32 LE length | type 3 | 40-byte records", record_batch_frame);
  t_run("out: pending records are framed before a reply", records_before_reply);
  t_run("out: records wait at most 100 ms, or until the loop is idle", nothing_pending);
}
