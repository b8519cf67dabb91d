import {EventEmitter} from 'node:events';
import {Writable} from 'node:stream';
import {parseEchoMarks, windowEchoPacing} from '../../../src/bench/paths.js';
import {createLogger} from '../../../src/log/logger.js';
import {MARK_SIGNAL, logMarksOnSignal, pacingBetweenMarks, pacingMark, type PacingRecorder} from '../../../src/media/echo/mark.js';
import type {EchoServer} from '../../../src/media/echo/node.js';
import {LatencyHistogram} from '../../../src/metrics/histogram.js';

/** An echo server surface whose held packets' pacing errors the test records itself. */
function recordingEcho(): EchoServer & PacingRecorder & {hist: LatencyHistogram} {
  const hist = new LatencyHistogram();
  return {
    address: '127.0.0.1',
    port: 4000,
    recvBufferBytes: 1,
    sendBufferBytes: 1,
    stats: () => ({}) as ReturnType<EchoServer['stats']>,
    close: async () => ({}) as ReturnType<EchoServer['stats']>,
    pacingHistogram: () => hist,
    hist,
  };
}

function captureLogger(): {logger: ReturnType<typeof createLogger>; text: () => string} {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return {logger: createLogger({level: 'info', stream}), text: () => out};
}

describe('echo marks: the pacing error between two of them', () => {
  test('the window holds only what was recorded between the marks: a teardown burst after the second mark is not in it', () => {
    const echo = recordingEcho();
    for (let i = 0; i < 100; i++) echo.hist.recordUs(3000); // setup: 3 ms late
    const start = pacingMark(echo);
    for (let i = 0; i < 1000; i++) echo.hist.recordUs(40 + (i % 20)); // steady: 40–59 µs
    const end = pacingMark(echo);
    for (let i = 0; i < 500; i++) echo.hist.recordUs(2000); // teardown: 2 ms
    const w = pacingBetweenMarks(start, end);
    expect(w.reason).toBeNull();
    expect(w.pacing!.count).toBe(1000);
    expect(w.pacing!.p99).toBeGreaterThanOrEqual(58);
    expect(w.pacing!.p99).toBeLessThanOrEqual(60);
    expect(w.pacing!.max).toBeLessThanOrEqual(60);
    // the same two marks taken around the teardown see it
    const after = pacingBetweenMarks(end, pacingMark(echo));
    expect(after.pacing!.count).toBe(500);
    expect(after.pacing!.p50).toBeGreaterThanOrEqual(1990);
  });

  test('null with the reason, never a zero, when nothing was held in between or the echo keeps no histogram', () => {
    const echo = recordingEcho();
    echo.hist.recordUs(50);
    const a = pacingMark(echo);
    expect(pacingBetweenMarks(a, pacingMark(echo))).toEqual({pacing: null, reason: 'the echo held no packet between the two marks'});
    const nodeEcho = {...echo, pacingHistogram: undefined} as unknown as EchoServer;
    const m = pacingMark(nodeEcho);
    expect(m.pacingErrorHist).toBeNull();
    expect(pacingBetweenMarks(m, m)).toEqual({pacing: null, reason: expect.stringMatching(/Node echo keeps no pacing-error histogram/)});
  });

  test('each mark signal logs one echo.mark line that the bench parses back, until disposed', () => {
    const echo = recordingEcho();
    const {logger, text} = captureLogger();
    const source = new EventEmitter();
    const dispose = logMarksOnSignal(echo, logger, source);
    source.emit(MARK_SIGNAL);
    for (let i = 0; i < 200; i++) echo.hist.recordUs(i < 197 ? 30 : 900); // 1.5 % at 900 µs: above p99
    source.emit(MARK_SIGNAL);
    dispose();
    source.emit(MARK_SIGNAL);
    const marks = parseEchoMarks(text());
    expect(marks.map((m) => m.pacingErrorCount)).toEqual([0, 200]);
    const w = windowEchoPacing(text());
    expect(w.pacing).toMatchObject({count: 200, p50: 30});
    expect(w.pacing!.max).toBeGreaterThanOrEqual(899);
    expect(w.pacing!.p99).toBeGreaterThanOrEqual(899);
  });

  test('fewer than two marks (no steady window) is null with the count of marks seen', () => {
    const {logger, text} = captureLogger();
    const source = new EventEmitter();
    logMarksOnSignal(recordingEcho(), logger, source);
    source.emit(MARK_SIGNAL);
    expect(windowEchoPacing(text())).toEqual({pacing: null, reason: "echo logged 1 of the window's 2 marks (echo.mark on SIGUSR2)"});
    expect(windowEchoPacing('')).toEqual({pacing: null, reason: "echo logged 0 of the window's 2 marks (echo.mark on SIGUSR2)"});
  });
});
