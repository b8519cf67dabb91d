/* Pacing arithmetic (see pace.h). */
#include "pace.h"

void pace_echo_start(struct echo_anchor *a, uint32_t ts, int64_t t_recv, double ns_per_tick) {
  a->ts0 = ts;
  a->ns_per_tick = ns_per_tick;
  a->t0_ns = t_recv;
  a->prev_phase_ns = t_recv;
}

int64_t pace_echo_due(struct echo_anchor *a, uint32_t ts, int64_t t_recv, int64_t max_hold_ns, int *how) {
  int64_t off = (int64_t)((double)(int32_t)(ts - a->ts0) * a->ns_per_tick);
  int64_t phase = t_recv - off;
  int64_t prev = a->prev_phase_ns;
  *how = ECHO_ANCHOR_KEPT;
  a->prev_phase_ns = phase;
  if (phase < a->t0_ns && prev < a->t0_ns && phase - prev <= ECHO_SETTLE_TOL_NS && prev - phase <= ECHO_SETTLE_TOL_NS) {
    a->t0_ns = phase > prev ? phase : prev; /* the stream settled earlier: the later of the two */
    *how = ECHO_ANCHOR_MOVED;
  }
  if (a->t0_ns + off - t_recv > max_hold_ns) {
    a->t0_ns = phase; /* a timestamp jump: never hold beyond max_hold_ns */
    *how = ECHO_ANCHOR_REANCHORED;
  }
  return a->t0_ns + off;
}

int64_t pace_skip_threshold_ns(int64_t frame_ns, int64_t hold_ns) { return MAX_CATCH_UP_FRAMES * frame_ns + (hold_ns > 0 ? hold_ns : 0); }

int64_t pace_skip_frames(int64_t now, int64_t next_ns, int64_t frame_ns, int64_t threshold_ns) {
  if (now - next_ns <= threshold_ns) return 0;
  return (now - next_ns) / frame_ns + 1;
}

int64_t pace_resume_frames(int64_t gap_ns, int64_t frame_ns) {
  int64_t frames = gap_ns >= 0 ? (gap_ns + frame_ns / 2) / frame_ns : 0;
  return frames < 1 ? 1 : frames;
}
