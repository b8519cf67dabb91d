/**
 * Where the native media engine's executable is, built when first needed (scripts/build-engine.mjs:
 * keyed by the sources' hash and the C compiler's version; next to the package when writable,
 * else in the user's cache; under a lock). An install whose scripts were blocked or ignored
 * (npm 11's default for global installs, `--ignore-scripts`) gets its engine on first use
 * instead of silently measuring with the pure-Node engine.
 */
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

/** The package's root (from src/engine or dist/engine alike). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The engine path next to the package (what `npm install` builds; what `setcap` advice names when it is there). */
export function packageEnginePath(): string {
  return join(PACKAGE_ROOT, 'native', 'build', 'rtpsla-engine');
}

export type EngineBinary = {path: string; built: boolean; reason: null} | {path: null; built: false; reason: string};

interface BuildModule {
  ensureEngine(say?: (text: string) => void): {path: string | null; built?: boolean; reason?: string};
}

let resolved: EngineBinary | null = null;

/**
 * The engine to run: an up-to-date build, or one built now (one line on stderr from the process
 * that builds it), or null with the reason it cannot be had (no compiler, not Linux…). Resolved
 * once per process; RTPSLA_ENGINE_BINARY names an executable to use as it is (tests, packagers).
 */
export async function resolveEngineBinary(say: (text: string) => void = (t) => process.stderr.write(t)): Promise<EngineBinary> {
  if (resolved !== null) return resolved;
  const forced = process.env.RTPSLA_ENGINE_BINARY;
  if (forced !== undefined && forced.trim() !== '') {
    resolved = existsSync(forced) ? {path: forced, built: false, reason: null} : {path: null, built: false, reason: `RTPSLA_ENGINE_BINARY=${forced} does not exist`};
    return resolved;
  }
  const script = join(PACKAGE_ROOT, 'scripts', 'build-engine.mjs');
  if (!existsSync(script)) {
    const p = packageEnginePath();
    resolved = existsSync(p) ? {path: p, built: false, reason: null} : {path: null, built: false, reason: `${p} is not built`};
    return resolved;
  }
  const mod = (await import(pathToFileURL(script).href)) as BuildModule;
  const r = mod.ensureEngine(say);
  resolved = r.path !== null ? {path: r.path, built: r.built === true, reason: null} : {path: null, built: false, reason: r.reason ?? 'unknown'};
  return resolved;
}

/** What measuring without the native engine costs, for the one line that says so. */
const NODE_ENGINE_COST = 'the pure-Node engine measures instead: it adds 1.9-3.9 ms at p99 and fails the SLA at 150 calls';

let nodeCostSaid = false;

/** The one line (once per process) saying the native engine is not available, why, and what that costs. */
export function sayNodeEngine(reason: string, write: (text: string) => void = (t) => process.stderr.write(t)): void {
  if (nodeCostSaid) return;
  nodeCostSaid = true;
  write(`rtpsla: the native media engine is not available (${reason}); ${NODE_ENGINE_COST}\n`);
}
