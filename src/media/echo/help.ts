/** `rtpsla echo --help`: what the command does, in whole sentences. */
export const ECHO_DESCRIPTION = [
  'Each source (address:port + SSRC) is anchored at the phase of its first packet; a packet is sent back at max(now, t0 + (ts - ts0) / clock_rate). ' +
    't0 moves earlier only when two consecutive packets both arrive earlier than it and within 5 ms of each other, so a burst is re-paced to its timestamps. ' +
    'Early packets wait for their slot (never longer than --max-hold-ms: such a packet re-anchors its source), late ones go at once, and the datagram is returned byte-identical. ' +
    'Malformed datagrams are counted and not echoed; idle sources expire.',
  'With --engine native (or auto, when the engine is built) the native media engine reflects the packets with kernel receive times. ' +
    'Prints one "ENGINE engine: echo listening on HOST:PORT (rcvbuf N, sndbuf N)" line on stdout once bound, periodic stats on stderr, ' +
    'and the final counters on stderr at SIGINT/SIGTERM (exit 0; a second signal exits 130 at once). ' +
    'Each SIGUSR2 logs one "echo.mark" line (at info level) with the pacing-error histogram of every packet held so far, so two marks bracket a window (the bench marks its steady window).',
  'With --mode stream it is a stand-in voice bot instead: each source gets its own paced 20 ms RTP stream back from the moment it is first seen ' +
    '(its own SSRC, sequence numbers and timestamps, the payload type and datagram size of the source), whatever the source sends; the stream stops when the source goes idle. ' +
    'With --mode sink it receives and counts only, and sends nothing. Stop the process (SIGSTOP, then SIGCONT) to stall either.',
].join('\n\n');
