/* rtpsla native media engine: the protocol's shared types (see PROTOCOL.md). Declarations of the
 * units live in their own headers: io.h, loop.h, out.h, ctl.h, rtp.h, pace.h, heap.h, fwd.h and
 * the roles relay.h, echo.h, source.h. */
#ifndef RTPSLA_ENGINE_H
#define RTPSLA_ENGINE_H

#include <stdint.h>

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
  REC_ECHO = 5,      /* echo reflected a packet; aux = t_recv - due (us: > 0 late, < 0 early; flags & REC_F_HELD: waited) */
  /* sim media sources (source.c); id = source id */
  REC_SRC_SENT = 6,      /* a frame sent: t_recv_ns = its deadline, t_sent_ns = just before sendto; aux = frames skipped before it */
  REC_SRC_RECEIVED = 7,  /* RTP from the learned peer: t_sent_ns = send time of the matching frame sent (0 = none);
                            matched by SSRC + seq (matchBy "seq") or by RTP timestamp, any SSRC (matchBy "ts") */
  REC_SRC_FOREIGN = 8,   /* from an address not (yet) learned: dropped */
  REC_SRC_MALFORMED = 9, /* not RTP: aux = parse reason */
  REC_SRC_FORWARDED = 10 /* a packet received on a linked source (id) sent on out of the link's target source:
                            seq/ts/ssrc/pt/size as sent, t_recv_ns = kernel receive time of the incoming packet,
                            t_sent_ns = just before sendto; aux = delay it was given (us: drawn + fault) */
};
#define REC_F_MARKER 1u
#define REC_F_SEND_FAILED 2u
#define REC_F_NOT_FORWARDED 4u
#define REC_F_ARRIVED_LATE 8u
#define REC_F_HELD 16u /* echo: the packet waited in its source's hold queue for its slot */

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

/* what a struct handle (loop.h) is, for the engine's dispatch of epoll events */
enum handle_type { H_STDIN, H_STDOUT, H_RELAY, H_ECHO, H_SOURCE, H_SOURCE_TIMER, H_ECHO_TIMER };

#endif
