/* Pacing arithmetic of the echo and the sim's media sources: pure functions, no I/O or clock. */
#ifndef RTPSLA_PACE_H
#define RTPSLA_PACE_H

#include <stdint.h>

/* a source behind by more than this many frames skips ahead instead of bursting */
#define MAX_CATCH_UP_FRAMES 8

/*
 * Echo: a source's pacing anchor (PROTOCOL.md, echo behaviour). A packet with RTP timestamp ts is
 * due at t0' + (ts - ts0) x ns_per_tick. t0' starts as the phase t_recv - (ts - ts0) x ns_per_tick
 * of the source's first packet and moves earlier only when two consecutive packets both have a
 * phase earlier than t0' and within ECHO_SETTLE_TOL_NS of each other: t0' becomes the later of the
 * two. So a burst (phases a frame apart) is re-paced to its timestamps, and a first packet delayed
 * by a stall holds the stream back only until it settles. A packet that would be due more than
 * max_hold_ns after it arrived (a timestamp jump) re-anchors the source on its own phase instead.
 */
#define ECHO_SETTLE_TOL_NS 5000000LL /* a quarter of the 20 ms frame interval */
struct echo_anchor {
  int64_t t0_ns;         /* t0' */
  int64_t prev_phase_ns; /* phase of the source's previous packet */
  uint32_t ts0;
  double ns_per_tick;
};
enum { ECHO_ANCHOR_KEPT = 0, ECHO_ANCHOR_MOVED = 1, ECHO_ANCHOR_REANCHORED = 2 };
/* start the anchor on the source's first packet */
void pace_echo_start(struct echo_anchor *a, uint32_t ts, int64_t t_recv, double ns_per_tick);
/* the due time of a packet (the first one included); *how = ECHO_ANCHOR_KEPT / _MOVED / _REANCHORED */
int64_t pace_echo_due(struct echo_anchor *a, uint32_t ts, int64_t t_recv, int64_t max_hold_ns, int *how);

/* Source: how far behind its deadline a source may fall before it skips ahead; hold_ns widens it
 * for the catch-up burst after a deliberate hold of the first frame. */
int64_t pace_skip_threshold_ns(int64_t frame_ns, int64_t hold_ns);
/* Source: frames to skip at now when the next deadline is next_ns (0 = send the frame): when it is
 * more than threshold_ns behind, every missed deadline up to now and the next one. */
int64_t pace_skip_frames(int64_t now, int64_t next_ns, int64_t frame_ns, int64_t threshold_ns);
/* Source resumed after a stop: frames its timestamp jumps by for a gap between the last deadline
 * sent and the new start (rounded, at least one). */
int64_t pace_resume_frames(int64_t gap_ns, int64_t frame_ns);
/* Source: when its next frame may go: its deadline, but not before the end of a hold */
static inline int64_t pace_send_at(int64_t next_ns, int64_t hold_until_ns) { return next_ns > hold_until_ns ? next_ns : hold_until_ns; }

#endif
