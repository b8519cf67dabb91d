/* Pacing arithmetic of the echo and the sim's media sources: pure functions, no I/O or clock. */
#ifndef RTPSLA_PACE_H
#define RTPSLA_PACE_H

#include <stdint.h>

/* a source behind by more than this many frames skips ahead instead of bursting */
#define MAX_CATCH_UP_FRAMES 8

/*
 * Echo: the due time of a packet with RTP timestamp ts received at t_recv, for a source whose
 * first packet had timestamp ts0: due = t0 + (ts - ts0) x ns_per_tick, where the anchor *t0_ns is
 * the earliest phase t_recv - (ts - ts0) x ns_per_tick seen. A packet with an earlier phase moves
 * the anchor there (and sets *moved to 1), so due <= t_recv always.
 */
int64_t pace_echo_due(int64_t *t0_ns, uint32_t ts0, double ns_per_tick, uint32_t ts, int64_t t_recv, int *moved);

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
