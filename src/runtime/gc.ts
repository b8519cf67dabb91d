/**
 * Node flags for rtpsla's long-running processes: `npm start` and `npm run bench` pass them, and
 * demo, bench and the tests start their child processes with them. Started as plain `rtpsla …`
 * (`#!/usr/bin/env node`) a command runs without them.
 *
 * `--no-memory-reducer`: when a process's allocation rate drops (a `load` that has originated its
 * calls and now only waits; serve at a low call rate), V8 runs full "(reduce)" mark-compacts about
 * 8 s later to give memory back. Measured in `load` at 150 calls: two of them, 16 and 11 ms of
 * pause plus ≈ 10 ms of incremental steps each, at 8.5 and 9.1 s into the run, on the two cores the
 * media path shares; the worst packet of 80 of the 150 calls came back at that moment. Processes
 * that take part in (or sit beside) a measurement keep their heap instead. V8 reads the flag when
 * the heap is set up, so it has to be on the node command line: `v8.setFlagsFromString` is too
 * late, NODE_OPTIONS does not accept it, a `#!/usr/bin/env -S node …` shebang fails where env is
 * BusyBox's (Alpine), and relaunching in a child process would put a second process in front of
 * every signal (a duplicate SIGTERM from `pkill` or systemd means "quit at once" to serve).
 */
export const NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** True when this process runs with NODE_FLAGS. */
export function hasNodeFlags(execArgv: readonly string[] = process.execArgv): boolean {
  return NODE_FLAGS.every((f) => execArgv.includes(f));
}
