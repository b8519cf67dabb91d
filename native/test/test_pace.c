/* Pacing arithmetic of the echo and the sources. */
#include "test.h"
#include "../pace.h"

#define MS 1000000LL
#define FRAME (20 * MS)

static void echo_first_packet(void) {
  int64_t t0 = 1000 * MS;
  int moved;
  /* 8 kHz: 125000 ns per tick; the anchor's own packet is due when it arrived */
  CHECK(pace_echo_due(&t0, 160, 125000.0, 160, 1000 * MS, &moved) == 1000 * MS);
  CHECK(moved == 0);
}

static void echo_late_packet(void) {
  int64_t t0 = 1000 * MS;
  int moved;
  /* one frame (160 ticks) later in RTP time, arriving 25 ms later: due 20 ms after the anchor */
  CHECK(pace_echo_due(&t0, 160, 125000.0, 320, 1025 * MS, &moved) == 1020 * MS);
  CHECK(moved == 0 && t0 == 1000 * MS);
}

static void echo_anchor_moves_earlier(void) {
  int64_t t0 = 1000 * MS;
  int moved;
  /* one frame later in RTP time but only 15 ms later: its phase (995 ms) is the new anchor */
  int64_t due = pace_echo_due(&t0, 160, 125000.0, 320, 1015 * MS, &moved);
  CHECK(moved == 1);
  CHECK(t0 == 995 * MS);
  CHECK(due == 1015 * MS);
}

static void echo_ts_wraps(void) {
  int64_t t0 = 1000 * MS;
  int moved;
  /* ts0 just below 2^32; the next frame wraps to 96 */
  CHECK(pace_echo_due(&t0, 0xFFFFFFC0u, 125000.0, 96, 1020 * MS, &moved) == 1020 * MS);
  CHECK(moved == 0);
}

static void source_on_time_sends(void) {
  int64_t thr = pace_skip_threshold_ns(FRAME, 0);
  CHECK(thr == MAX_CATCH_UP_FRAMES * FRAME);
  CHECK(pace_skip_frames(1000 * MS, 1000 * MS, FRAME, thr) == 0);
  /* exactly 8 frames behind: still a catch-up send */
  CHECK(pace_skip_frames(1000 * MS + 8 * FRAME, 1000 * MS, FRAME, thr) == 0);
}

static void source_far_behind_skips(void) {
  int64_t thr = pace_skip_threshold_ns(FRAME, 0);
  /* 8 frames + 1 ns behind: skip the 8 missed deadlines and the one now due (9) */
  CHECK(pace_skip_frames(1000 * MS + 8 * FRAME + 1, 1000 * MS, FRAME, thr) == 9);
  /* 10.5 frames behind: 11 */
  CHECK(pace_skip_frames(1000 * MS + 210 * MS, 1000 * MS, FRAME, thr) == 11);
}

static void source_hold_does_not_skip(void) {
  /* holdFirstUs 200000: the burst at start + 200 ms (10 frames due) is no skip */
  int64_t start = 1000 * MS, hold = 200 * MS;
  int64_t thr = pace_skip_threshold_ns(FRAME, hold);
  CHECK(pace_skip_frames(start + hold + 2 * MS, start, FRAME, thr) == 0);
  /* without the widened threshold it would have skipped */
  CHECK(pace_skip_frames(start + hold + 2 * MS, start, FRAME, pace_skip_threshold_ns(FRAME, 0)) > 0);
  /* nothing goes before the hold ends, then the first deadline is already due */
  CHECK(pace_send_at(start, start + hold) == start + hold);
  CHECK(pace_send_at(start + 11 * FRAME, start + hold) == start + 11 * FRAME);
}

static void source_resume(void) {
  CHECK(pace_resume_frames(0, FRAME) == 1);
  CHECK(pace_resume_frames(-5 * MS, FRAME) == 1);
  CHECK(pace_resume_frames(29 * MS, FRAME) == 1);
  CHECK(pace_resume_frames(31 * MS, FRAME) == 2); /* rounded */
  CHECK(pace_resume_frames(1000 * MS, FRAME) == 50);
}

void pace_tests(void) {
  t_run("pace: echo due of the anchoring packet is its receive time", echo_first_packet);
  t_run("pace: echo due of a late packet is anchor + RTP time", echo_late_packet);
  t_run("pace: echo anchor moves to an earlier phase", echo_anchor_moves_earlier);
  t_run("pace: echo due across an RTP timestamp wrap", echo_ts_wraps);
  t_run("pace: source on time or up to 8 frames behind sends", source_on_time_sends);
  t_run("pace: source over 8 frames behind skips every missed frame", source_far_behind_skips);
  t_run("pace: holdFirstUs catch-up burst does not skip", source_hold_does_not_skip);
  t_run("pace: resumed source jumps its timestamp by rounded frames, at least one", source_resume);
}
