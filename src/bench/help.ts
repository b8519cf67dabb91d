/** `rtpsla bench --help`: what is measured on which paths, what is written, soak mode. */
export const BENCH_DESCRIPTION = [
  'For each N in --calls it runs four paths, each with fresh processes: direct (sim externalMedia → echo, no relay; the benchmark is the Stasis',
  'app), the rtpsla relay with the native engine and with the node engine (sim → serve → echo, driven like `rtpsla load`), and rtpengine in',
  'userspace (sim → rtpengine → echo, ports set up per call over its ng protocol). A path that cannot run here (native engine not built,',
  'rtpengine-daemon not installed) is skipped with a note. It reports the round trip the sim measures (p50/p99/p99.9/max), what each relay',
  'adds over direct, late/loss ratios, CPU % of every process over the steady window, the relay\'s CPU µs per forwarded packet, peak RSS, UDP',
  'buffer errors and the largest SLA-clean N. Writes <out>/<timestamp>.json, the chart\'s spec (.chart.json) and SVG, and prints a table.',
  '--soak-min M instead holds 150 calls on the relay path for M minutes after a 1-minute warm-up and samples serve RSS and open handles each',
  'minute. Ctrl-C stops the children and writes what was measured (exit 130); a second Ctrl-C kills them at once. Linux only (/proc).',
].join('\n');
