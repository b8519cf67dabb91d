/* Pacing arithmetic of the echo and the sources. */
#include "test.h"
#include "../pace.h"

#define MS 1000000LL
#define FRAME (20 * MS)

#define NS_PER_TICK 125000.0 /* 8 kHz */
#define NO_CAP (3600LL * 1000 * MS)

/* packet i of n (ts = ts0 + i x 160) arriving at arrival(i): fills held[i] = due - t_recv (ns) */
static void echo_run(int n, uint32_t ts0, const int64_t *arrival, int64_t *wait, int64_t max_hold, int *moves, int *reanchors) {
  struct echo_anchor a;
  pace_echo_start(&a, ts0, arrival[0], NS_PER_TICK);
  *moves = *reanchors = 0;
  for (int i = 0; i < n; i++) {
    int how;
    int64_t due = pace_echo_due(&a, ts0 + (uint32_t)(i * 160), arrival[i], max_hold, &how);
    wait[i] = due - arrival[i];
    if (how == ECHO_ANCHOR_MOVED) (*moves)++;
    if (how == ECHO_ANCHOR_REANCHORED) (*reanchors)++;
  }
}

static void echo_burst_is_repaced(void) {
  /* (a) 50 packets sent at once, timestamps 20 ms apart: each one held to its timestamp's slot */
  int64_t arr[50], wait[50];
  int moves, re;
  for (int i = 0; i < 50; i++) arr[i] = 1000 * MS + i * 10000; /* 10 us apart */
  echo_run(50, 160, arr, wait, NO_CAP, &moves, &re);
  CHECK(moves == 0 && re == 0);
  CHECK(wait[0] == 0);
  for (int i = 1; i < 50; i++) CHECK(wait[i] == i * FRAME - i * 10000);
  /* the last one leaves 980 ms after the first: spread >= 900 ms */
  CHECK(arr[49] + wait[49] - (arr[0] + wait[0]) == 49 * FRAME);
}

static void echo_stalled_first_packet_settles(void) {
  /* (b) frames 0..7 are due at 0..140 ms; a stall holds them until 150 ms, they come at once, then
   * the rest on time: the anchor settles on the 2nd on-time packet (frame 9) and holds none after */
  int64_t arr[100], wait[100];
  int moves, re;
  for (int i = 0; i < 100; i++) arr[i] = 1000 * MS + (i <= 7 ? 150 * MS + i * 10000 : i * FRAME);
  echo_run(100, 0xFFFFFF00u, arr, wait, NO_CAP, &moves, &re); /* timestamps wrap on the way */
  CHECK(moves == 1 && re == 0);
  CHECK(wait[0] == 0);
  CHECK(wait[1] == FRAME - 10000); /* the catch-up burst waits for the first packet's grid */
  CHECK(wait[8] == 150 * MS);      /* the 1st on-time packet alone cannot move the anchor */
  for (int i = 9; i < 100; i++) CHECK(wait[i] == 0);
}

static void echo_jitter_held_by_earliness_only(void) {
  /* (c) a jittered stream (arrivals -4..+9 ms around the 20 ms grid, first on the grid): a packet
   * waits at most as long as it came early against the first packet's slot grid */
  int64_t arr[200], wait[200];
  int moves, re;
  for (int i = 0; i < 200; i++) arr[i] = 1000 * MS + i * FRAME + (i == 0 ? 0 : ((i * 7919) % 14 - 4) * MS);
  echo_run(200, 160, arr, wait, NO_CAP, &moves, &re);
  int held = 0;
  for (int i = 0; i < 200; i++) {
    int64_t early = 1000 * MS + i * FRAME - arr[i];
    CHECK(wait[i] <= (early > 0 ? early : 0)); /* wait <= 0: on time or late, it goes at once */
    CHECK(wait[i] <= 4 * MS);
    if (wait[i] > 0) held++;
  }
  CHECK(held > 0); /* the early ones do wait for their slot */
}

static void echo_stream_settles_earlier(void) {
  /* two consecutive packets 10 ms early and within 5 ms of each other move t0' to the later phase */
  struct echo_anchor a;
  int how;
  pace_echo_start(&a, 0, 1000 * MS, NS_PER_TICK);
  CHECK(pace_echo_due(&a, 0, 1000 * MS, NO_CAP, &how) == 1000 * MS && how == ECHO_ANCHOR_KEPT);
  CHECK(pace_echo_due(&a, 160, 1010 * MS, NO_CAP, &how) == 1020 * MS && how == ECHO_ANCHOR_KEPT); /* phase 990: held */
  CHECK(pace_echo_due(&a, 320, 1027 * MS, NO_CAP, &how) == 1030 * MS && how == ECHO_ANCHOR_MOVED); /* phase 987: t0' = 990 */
  CHECK(a.t0_ns == 990 * MS);
  /* a late packet never moves it later */
  CHECK(pace_echo_due(&a, 480, 1100 * MS, NO_CAP, &how) == 1050 * MS && how == ECHO_ANCHOR_KEPT);
  CHECK(a.t0_ns == 990 * MS);
}

static void echo_max_hold_reanchors(void) {
  /* a timestamp 60 s ahead would be held 60 s: with max hold 300 ms it re-anchors and goes at once */
  struct echo_anchor a;
  int how;
  pace_echo_start(&a, 160, 1000 * MS, NS_PER_TICK);
  pace_echo_due(&a, 160, 1000 * MS, 300 * MS, &how);
  CHECK(pace_echo_due(&a, 160 + 8000 * 60, 1001 * MS, 300 * MS, &how) == 1001 * MS && how == ECHO_ANCHOR_REANCHORED);
  /* 200 ms of RTP time later, arriving 1 ms later: held 199 ms (within the cap) */
  CHECK(pace_echo_due(&a, 160 + 8000 * 60 + 1600, 1002 * MS, 300 * MS, &how) == 1201 * MS && how == ECHO_ANCHOR_KEPT);
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
  t_run("pace: echo re-paces a burst sent at once to its timestamps", echo_burst_is_repaced);
  t_run("pace: echo holds only the 2nd packet after a stalled first one", echo_stalled_first_packet_settles);
  t_run("pace: echo holds a jittered packet at most by its earliness", echo_jitter_held_by_earliness_only);
  t_run("pace: echo anchor settles earlier on two consecutive early packets", echo_stream_settles_earlier);
  t_run("pace: echo re-anchors rather than hold beyond max hold", echo_max_hold_reanchors);
  t_run("pace: source on time or up to 8 frames behind sends", source_on_time_sends);
  t_run("pace: source over 8 frames behind skips every missed frame", source_far_behind_skips);
  t_run("pace: holdFirstUs catch-up burst does not skip", source_hold_does_not_skip);
  t_run("pace: resumed source jumps its timestamp by rounded frames, at least one", source_resume);
}
