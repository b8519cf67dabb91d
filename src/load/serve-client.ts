import {ConnectError, errorMessage} from '../errors.js';
import {RUN_TOKEN_HEADER} from '../protocol/app-args.js';
import {
  HealthSchema,
  LiveCallsSchema,
  RunProgressSchema,
  RunRecordsSchema,
  parseServeAnswer,
  type LiveCall,
  type RunProgress,
  type RunRecords,
} from '../protocol/serve-api.js';

/** Talks to a running `rtpsla serve` HTTP endpoint. */
export class ServeClient {
  constructor(readonly baseUrl: string, private readonly timeoutMs = 5000) {}

  /**
   * Throws ConnectError (exit 2) unless serve answers /health 200 (ARI connected). Returns what
   * serve says of itself: its externalMedia format (null from a serve that does not say).
   */
  async checkHealthy(): Promise<{format: string | null; app: string | null; mediaServer: 'echo' | 'stream' | 'sink' | null; portRange: {low: number; high: number} | null; echo: string | null}> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/health`, {signal: AbortSignal.timeout(this.timeoutMs)});
    } catch (err) {
      throw new ConnectError(`cannot reach serve at ${this.baseUrl}: ${describe(err)} (is \`rtpsla serve\` running? --serve-url)`);
    }
    const json: unknown = await res.json().catch(() => undefined);
    if (res.status === 503) {
      const health = HealthSchema.safeParse(json);
      if (!health.success) throw new ConnectError(`serve at ${this.baseUrl} answered /health with 503 (busy?)`);
      const h = health.data;
      throw new ConnectError(
        h.ari === 'connected' && h.reason !== undefined
          ? `serve at ${this.baseUrl} is up but cannot do its job: ${h.reason}`
          : `serve at ${this.baseUrl} is up but not connected to ARI (${h.ari})`,
      );
    }
    if (res.status !== 200) throw new ConnectError(`serve at ${this.baseUrl} answered /health with ${res.status}`);
    let body;
    try {
      body = parseServeAnswer(HealthSchema, json, '/health');
    } catch (err) {
      throw new ConnectError(`${this.baseUrl}: ${errorMessage(err)}`);
    }
    // a serve that reports its relay range (`portRange: "LOW-HIGH"`) is taken at its word
    const range = typeof body.portRange === 'string' ? /^(\d+)-(\d+)$/.exec(body.portRange) : null;
    return {format: body.format ?? null, app: body.app ?? null, mediaServer: body.mediaServer ?? null, portRange: range ? {low: Number(range[1]), high: Number(range[2])} : null, echo: body.echo ?? null};
  }

  /**
   * The run's records, or undefined when serve has none (yet). With `consume` and the run's
   * token (from the calls' appArgs), serve drops them once the run has no live call.
   */
  async run(runId: string, consume?: {token: string}): Promise<RunRecords | undefined> {
    let res: Response;
    // serve answers 503 while it sheds HTTP load (a scrape storm): wait as told and ask again
    for (let attempt = 1; ; attempt++) {
      res = await fetch(`${this.baseUrl}/runs/${encodeURIComponent(runId)}${consume ? '?consume=1' : ''}`, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: consume ? {[RUN_TOKEN_HEADER]: consume.token} : {},
      });
      if (res.status !== 503 || attempt >= 20) break;
      await res.arrayBuffer().catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt)));
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`serve answered /runs/${runId} with ${res.status}`);
    return parseServeAnswer(RunRecordsSchema, await res.json(), `/runs/${runId}`);
  }

  /** {activeCalls, recorded} of a run, or undefined when serve has none (yet). */
  async runProgress(runId: string): Promise<RunProgress | undefined> {
    const res = await fetch(`${this.baseUrl}/runs/${encodeURIComponent(runId)}?brief=1`, {signal: AbortSignal.timeout(this.timeoutMs)});
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`serve answered /runs/${runId}?brief=1 with ${res.status}`);
    return parseServeAnswer(RunProgressSchema, await res.json(), `/runs/${runId}?brief=1`);
  }

  async liveCalls(): Promise<LiveCall[]> {
    const res = await fetch(`${this.baseUrl}/calls`, {signal: AbortSignal.timeout(this.timeoutMs)});
    if (!res.ok) throw new Error(`serve answered /calls with ${res.status}`);
    return parseServeAnswer(LiveCallsSchema, await res.json(), '/calls').calls;
  }
}

function describe(err: unknown): string {
  const cause = (err as {cause?: {code?: string; message?: string}}).cause;
  if (cause?.code) return cause.code;
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  return errorMessage(cause ?? err);
}
