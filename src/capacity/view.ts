/** Progress of `rtpsla capacity`: listr2 on a TTY (one line per step under the running one), plain lines on stderr otherwise. */
import {Listr} from 'listr2';
import type {LoadProgress} from '../load/run.js';
import type {CapacityStep} from './run.js';
import type {StepPhase} from './search.js';

export interface CapacityView {
  stepStart(n: number, phase: StepPhase, index: number): void;
  load(p: LoadProgress): void;
  step(s: CapacityStep): void;
  finish(ok: boolean): Promise<void>;
}

const PHASE_TEXT: Record<StepPhase, string> = {'step-up': 'stepping up', bisect: 'bisecting', confirm: 'judged again'};

/** `step 4: N = 240 (stepping up)`. */
export function stepTitle(n: number, phase: StepPhase, index: number): string {
  return `step ${index}: N = ${n} (${PHASE_TEXT[phase]})`;
}

/** `step 4: N = 240 FAIL: lateRatio@caller, 92 % late from Asterisk up (stress level (240 calls))`. */
export function stepLine(s: CapacityStep): string {
  const verdict = s.partial ? 'interrupted (its report is partial)' : s.pass ? 'PASS' : `FAIL: ${s.limitingText ?? s.failed.join(', ')}`;
  return `${stepTitle(s.calls, s.phase, s.index)} ${verdict} (${s.judgedAt}${s.leakNote ? `; ${s.leakNote}` : ''})`;
}

function loadText(p: LoadProgress): string {
  return `${p.phase}: originated ${p.originated}/${p.count}, up ${p.active}, failed ${p.failed}, hung up ${p.hungUp}`;
}

export function plainView(stream: NodeJS.WritableStream = process.stderr, everyMs = 5000): CapacityView {
  let lastAt = 0;
  let lastPhase = '';
  return {
    stepStart: (n, phase, index) => void stream.write(`capacity: ${stepTitle(n, phase, index)} …\n`),
    load(p) {
      const now = Date.now();
      if (p.phase === 'checking' || (p.phase === lastPhase && now - lastAt < everyMs)) return;
      lastAt = now;
      lastPhase = p.phase;
      stream.write(`capacity:   load ${loadText(p)}\n`);
    },
    step: (s) => void stream.write(`capacity: ${stepLine(s)}\n`),
    async finish() {},
  };
}

export function listrView(): CapacityView {
  const lines: string[] = [];
  let title = 'Capacity search: starting';
  let loadLine = '';
  let end: (ok: boolean) => void = () => undefined;
  const ended = new Promise<boolean>((resolve) => (end = resolve));
  const list = new Listr(
    [
      {
        title,
        task: async (_ctx: unknown, task: {title: string; output: string}) => {
          const draw = () => {
            task.title = loadLine ? `${title}: ${loadLine}` : title;
            task.output = lines.join('\n');
          };
          const tick = setInterval(draw, 200);
          try {
            if (!(await ended)) throw new Error('capacity search stopped');
          } finally {
            clearInterval(tick);
            draw();
          }
        },
        rendererOptions: {persistentOutput: true, outputBar: Infinity},
      },
    ],
    {exitOnError: true, registerSignalListeners: false, rendererOptions: {collapseErrors: true}},
  );
  const running = list.run().catch(() => undefined);
  return {
    stepStart(n, phase, index) {
      title = `Capacity search, ${stepTitle(n, phase, index)}`;
      loadLine = '';
    },
    load(p) {
      loadLine = loadText(p);
    },
    step(s) {
      lines.push(stepLine(s));
      loadLine = '';
    },
    async finish(ok) {
      title = 'Capacity search';
      loadLine = '';
      end(ok);
      await running;
    },
  };
}
