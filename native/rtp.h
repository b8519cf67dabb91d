/* RTP header parsing (RFC 3550 5.1): pure, no I/O. */
#ifndef RTPSLA_RTP_H
#define RTPSLA_RTP_H

#include <stddef.h>
#include <stdint.h>

struct rtp {
  uint8_t pt;
  uint8_t marker;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
};

/* parse reasons: the codes of RtpParse in src/rtp/packet.ts */
enum rtp_reason {
  RTP_OK = 0,
  RTP_TOO_SHORT = 1,
  RTP_BAD_VERSION = 2,
  RTP_CSRC_PAST_END = 3,
  RTP_EXTENSION_PAST_END = 4,
  RTP_PADDING_PAST_END = 5
};

/* 0 = RTP (fields in *out), else the reason it is not */
int rtp_parse(const uint8_t *b, size_t len, struct rtp *out);

#endif
