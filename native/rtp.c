/* RTP header parsing (see rtp.h). */
#include "rtp.h"

int rtp_parse(const uint8_t *b, size_t len, struct rtp *out) {
  if (len < 12) return RTP_TOO_SHORT;
  if ((b[0] >> 6) != 2) return RTP_BAD_VERSION;
  size_t off = 12 + (size_t)(b[0] & 0x0f) * 4;
  if (off > len) return RTP_CSRC_PAST_END;
  if (b[0] & 0x10) {
    if (off + 4 > len) return RTP_EXTENSION_PAST_END;
    size_t words = ((size_t)b[off + 2] << 8) | b[off + 3];
    off += 4 + words * 4;
    if (off > len) return RTP_EXTENSION_PAST_END;
  }
  if (b[0] & 0x20) {
    size_t pad = b[len - 1];
    if (pad == 0 || off + pad > len) return RTP_PADDING_PAST_END;
  }
  out->marker = b[1] >> 7;
  out->pt = b[1] & 0x7f;
  out->seq = (uint16_t)((b[2] << 8) | b[3]);
  out->ts = ((uint32_t)b[4] << 24) | ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
  out->ssrc = ((uint32_t)b[8] << 24) | ((uint32_t)b[9] << 16) | ((uint32_t)b[10] << 8) | b[11];
  return RTP_OK;
}
