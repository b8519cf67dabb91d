/* rtp_parse against golden byte vectors. */
#include "test.h"
#include "../rtp.h"

#include <string.h>

/* V=2, marker, PT 8, seq 0x1234, ts 0x01020304, SSRC 0xCAFEBABE, 4 payload bytes */
static const uint8_t VALID[] = {0x80, 0x88, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xCA, 0xFE, 0xBA, 0xBE, 0xd5, 0xd5, 0xd5, 0xd5};

static void valid(void) {
  struct rtp p;
  CHECK(rtp_parse(VALID, sizeof VALID, &p) == RTP_OK);
  CHECK(p.pt == 8);
  CHECK(p.marker == 1);
  CHECK(p.seq == 0x1234);
  CHECK(p.ts == 0x01020304u);
  CHECK(p.ssrc == 0xCAFEBABEu);
}

static void header_only(void) {
  struct rtp p;
  CHECK(rtp_parse(VALID, 12, &p) == RTP_OK);
  CHECK(p.seq == 0x1234);
}

static void too_short(void) {
  struct rtp p;
  CHECK(rtp_parse(VALID, 11, &p) == RTP_TOO_SHORT);
  CHECK(rtp_parse(VALID, 0, &p) == RTP_TOO_SHORT);
}

static void bad_version(void) {
  uint8_t b[16];
  memcpy(b, VALID, sizeof b);
  struct rtp p;
  b[0] = 0x40; /* V=1 */
  CHECK(rtp_parse(b, sizeof b, &p) == RTP_BAD_VERSION);
  b[0] = 0xC0; /* V=3 */
  CHECK(rtp_parse(b, sizeof b, &p) == RTP_BAD_VERSION);
}

static void csrc_past_end(void) {
  uint8_t b[16];
  memcpy(b, VALID, sizeof b);
  struct rtp p;
  b[0] = 0x81; /* 1 CSRC: 16 bytes of header, fits exactly */
  CHECK(rtp_parse(b, 16, &p) == RTP_OK);
  b[0] = 0x82; /* 2 CSRCs: 20 bytes, past the end */
  CHECK(rtp_parse(b, 16, &p) == RTP_CSRC_PAST_END);
}

static void extension_past_end(void) {
  /* X=1: extension header at 12 (profile 0xBEDE, 1 word) */
  uint8_t b[20] = {0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4};
  struct rtp p;
  CHECK(rtp_parse(b, 20, &p) == RTP_OK);
  CHECK(rtp_parse(b, 19, &p) == RTP_EXTENSION_PAST_END); /* the extension's word is cut */
  CHECK(rtp_parse(b, 14, &p) == RTP_EXTENSION_PAST_END); /* its header is cut */
}

static void padding_past_end(void) {
  uint8_t b[16];
  memcpy(b, VALID, sizeof b);
  struct rtp p;
  b[0] = 0xA0; /* P=1 */
  b[15] = 4;   /* all 4 payload bytes are padding */
  CHECK(rtp_parse(b, 16, &p) == RTP_OK);
  b[15] = 5; /* more padding than payload */
  CHECK(rtp_parse(b, 16, &p) == RTP_PADDING_PAST_END);
  b[15] = 0; /* a padding count of 0 */
  CHECK(rtp_parse(b, 16, &p) == RTP_PADDING_PAST_END);
}

void rtp_tests(void) {
  t_run("rtp_parse: a valid packet gives its header fields", valid);
  t_run("rtp_parse: a bare 12-byte header is RTP", header_only);
  t_run("rtp_parse: under 12 bytes is too short (1)", too_short);
  t_run("rtp_parse: version other than 2 (2)", bad_version);
  t_run("rtp_parse: CSRC list past the end (3)", csrc_past_end);
  t_run("rtp_parse: header extension past the end (4)", extension_past_end);
  t_run("rtp_parse: padding past the end or zero (5)", padding_past_end);
}
