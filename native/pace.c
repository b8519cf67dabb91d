/* Pacing arithmetic (see pace.h). */
#include "pace.h"

int64_t pace_echo_due(int64_t *t0_ns, uint32_t ts0, double ns_per_tick, uint32_t ts, int64_t t_recv, int *moved) {
  int64_t off = (int64_t)((double)(int32_t)(ts - ts0) * ns_per_tick);
  int64_t phase = t_recv - off;
  *moved = 0;
  if (phase < *t0_ns) {
    *t0_ns = phase; /* the earliest phase seen: the anchor only moves earlier */
    *moved = 1;
  }
  return *t0_ns + off;
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
