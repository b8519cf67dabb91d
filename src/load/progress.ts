import {Listr} from 'listr2';
import type {LoadPhase, LoadProgress} from './run.js';

const ORDER: LoadPhase[] = ['checking', 'originating', 'holding', 'collecting', 'leak-check', 'writing', 'done'];

function describe(p: LoadProgress): string {
  return `originated ${p.originated}/${p.count}, up ${p.active}, failed ${p.failed}, hung up ${p.hungUp}, measured ${p.measured}`;
}

/** Progress reporting for `load`: listr2 on a TTY, plain lines on stderr otherwise. */
export interface LoadProgressView {
  update(p: LoadProgress): void;
  /** Wait for the view to finish drawing (after the run resolved or failed). */
  finish(ok: boolean): Promise<void>;
}

export function plainProgress(stream: NodeJS.WritableStream = process.stderr, everyMs = 2000): LoadProgressView {
  let lastPhase: LoadPhase | null = null;
  let lastAt = 0;
  return {
    update(p) {
      if (p.phase === 'checking') return; // a failed check says so itself, in one line
      const now = Date.now();
      if (p.phase !== lastPhase || now - lastAt >= everyMs) {
        stream.write(`load ${p.phase}: ${describe(p)}\n`);
        lastPhase = p.phase;
        lastAt = now;
      }
    },
    async finish() {},
  };
}

export function listrProgress(): LoadProgressView {
  let current: LoadProgress = {phase: 'checking', count: 0, originated: 0, failed: 0, active: 0, hungUp: 0, measured: 0};
  const waiters = new Map<LoadPhase, () => void>();
  const passed = new Set<LoadPhase>();
  let failed: (() => void) | null = null;
  const failure = new Promise<void>((_, reject) => {
    failed = () => reject(new Error('load failed'));
  });
  failure.catch(() => undefined);
  const phaseDone = (phase: LoadPhase) => new Promise<void>((resolve) => (passed.has(phase) ? resolve() : waiters.set(phase, resolve)));
  const titles: Array<[LoadPhase, string]> = [
    ['checking', 'Check ARI and serve'],
    ['originating', 'Originate calls'],
    ['holding', 'Hold calls, then hang up'],
    ['collecting', 'Collect per-call records from serve'],
    ['leak-check', 'Check for leftover channels, bridges, ports'],
    ['writing', 'Write report'],
  ];
  const list = new Listr(
    titles.map(([phase, title]) => ({
      title,
      task: async (_ctx: unknown, task: {title: string}) => {
        const tick = setInterval(() => {
          if (phase === 'originating' || phase === 'holding' || phase === 'collecting') task.title = `${title}: ${describe(current)}`;
        }, 200);
        try {
          await Promise.race([phaseDone(phase), failure]);
        } finally {
          clearInterval(tick);
          if (phase === 'originating' || phase === 'holding' || phase === 'collecting') task.title = `${title}: ${describe(current)}`;
        }
      },
    })),
    {concurrent: false, exitOnError: true, registerSignalListeners: false, rendererOptions: {collapseErrors: true}},
  );
  const running = list.run().catch(() => undefined);
  return {
    update(p) {
      current = p;
      const idx = ORDER.indexOf(p.phase);
      for (let i = 0; i < idx; i++) {
        const ph = ORDER[i];
        if (!passed.has(ph)) {
          passed.add(ph);
          waiters.get(ph)?.();
        }
      }
    },
    async finish(ok) {
      if (!ok) failed?.();
      else this.update({...current, phase: 'done'});
      await running;
    },
  };
}
