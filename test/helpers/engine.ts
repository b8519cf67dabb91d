import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {engineBinaryPath} from '../../src/engine/engine-select.js';
import type {RecordKind, RecordSink} from '../../src/engine/engine-types.js';
import {NativeEngine} from '../../src/engine/native-engine.js';
import {ROOT} from './cli.js';

/** Build native/build/rtpsla-engine when it is missing or older than its sources (make -C native); returns its path. */
export function ensureEngineBuilt(): string {
  const bin = engineBinaryPath();
  const r = spawnSync('make', ['-C', path.join(ROOT, 'native')], {encoding: 'utf8'});
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`cannot build the native engine: ${r.stderr || r.error?.message}`);
  return bin;
}

export async function startTestEngine(env?: Record<string, string>): Promise<NativeEngine> {
  return NativeEngine.start({binaryPath: ensureEngineBuilt(), env});
}

/** One engine record as a test sees it. */
export interface EngineRec {
  kind: RecordKind;
  flags: number;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  size: number;
  tRecvUs: number;
  tSentUs: number;
  aux: number;
}

/** A record sink that keeps every record, for assertions. */
export class CollectRecords implements RecordSink {
  readonly recs: EngineRec[] = [];
  onRecord(kind: RecordKind, flags: number, pt: number, seq: number, ts: number, ssrc: number, size: number, tRecvUs: number, tSentUs: number, aux: number): void {
    this.recs.push({kind, flags, pt, seq, ts, ssrc, size, tRecvUs, tSentUs, aux});
  }
  of(kind: RecordKind): EngineRec[] {
    return this.recs.filter((r) => r.kind === kind);
  }
}
