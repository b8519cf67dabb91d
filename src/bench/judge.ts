/** How a bench run is judged: the SLA profile for N, each relay path over direct, and the targets. */
import {LEVELS, buildProfile, defaultProfile, type SlaLevel, type SlaProfile} from '../sla/profile.js';
import {PATH_NAMES, RTPSLA_PATH_NAMES, type RtpslaPathName, type BenchResult, type NResult, type OverDirect, type PathName, type PathResult, type TargetCheck} from './types.js';
import {round} from './window.js';

/**
 * The profile a relay report of N calls is judged with: the SLA levels for 30/100/150;
 * any other N is judged at the stress limits with the level's call count set to N (so the run
 * must also have reached N concurrent calls).
 */
export function profileFor(n: number): {profile: SlaProfile; level: SlaLevel | undefined; judgedAt: string} {
  const exact = (Object.entries(LEVELS) as Array<[SlaLevel, number]>).find(([, calls]) => calls === n);
  if (exact) return {profile: defaultProfile(), level: undefined, judgedAt: `${exact[0]} (${n} calls)`};
  const profile = buildProfile({levels: {nominal: {calls: 1}, high: {calls: 2}, stress: {calls: Math.max(3, n)}}}, `bench: stress limits at ${n} calls`);
  return {profile, level: 'stress', judgedAt: `stress limits at ${n} calls (N is not an SLA level)`};
}

function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 3) : 0;
}

/** What `relay` adds over `direct` (both measured by the sim), null when either is missing. */
export function compare(direct: PathResult | null, relay: PathResult | null): OverDirect | null {
  const d = direct?.roundTripMs;
  const r = relay?.roundTripMs;
  if (!d || !r || d.count === 0 || r.count === 0) return null;
  return {
    ratios: {p50: ratio(r.p50, d.p50), p99: ratio(r.p99, d.p99), p999: ratio(r.p999, d.p999), max: ratio(r.max, d.max)},
    addsMs: {p50: round(r.p50 - d.p50, 3), p99: round(r.p99 - d.p99, 3), p999: round(r.p999 - d.p999, 3), max: round(r.max - d.max, 3)},
  };
}

export function largestClean(results: NResult[], path: RtpslaPathName): number | null {
  const clean = results.filter((r) => r.slaClean[path] === true).map((r) => r.calls);
  return clean.length ? Math.max(...clean) : null;
}

/** Per rtpsla path: the search's result where it searched, else the largest clean N given. */
export function largestSlaClean(results: NResult[], search: BenchResult['search']): Record<RtpslaPathName, number | null> {
  const out = {} as Record<RtpslaPathName, number | null>;
  for (const p of RTPSLA_PATH_NAMES) out[p] = search ? (search[p]?.largest ?? null) : largestClean(results, p);
  return out;
}

/** The bench's targets (docs/measurements/), judged on this run. A figure that was not measured is null with why. */
export function targets(results: NResult[], skipped: BenchResult['skipped']): Record<string, TargetCheck> {
  const why = (p: PathName) => skipped.find((s) => s.path === p)?.reason ?? `the ${p} path did not run`;
  // the native targets count only where serve says it forwarded with the native engine
  const notNative = (r: NResult) => r.native !== null && r.native.engines.relay !== 'native';
  const nativeWhy = (r: NResult) =>
    r.native ? `serve forwarded with the ${r.native.engines.relay ?? 'unreported'} engine on the native path at ${r.calls} calls` : `native: ${why('native')}`;
  const at = (n: number) => results.find((r) => r.calls === n);
  const largest = largestClean(results.filter((r) => !notNative(r)), 'native');
  const measured600 = results.some((r) => r.calls >= 600 && r.native?.relay && !notNative(r));
  const at150 = at(150);
  const cpuBelow = (n: number): TargetCheck => {
    const r = at(n);
    if (!r) return {met: null, detail: `N=${n} not run`};
    if (notNative(r)) return {met: null, detail: nativeWhy(r)};
    const nat = r.native?.relayCpuUsPerPacket ?? null;
    const rte = r.rtpengine?.relayCpuUsPerPacket ?? null;
    if (nat === null) return {met: null, detail: r.native ? `native relay CPU per packet not measured at ${n} calls` : nativeWhy(r)};
    if (rte === null) return {met: null, detail: r.rtpengine ? `rtpengine CPU per packet not measured at ${n} calls` : `rtpengine: ${why('rtpengine')}`};
    return {met: nat < rte, detail: `native relay (serve + engine) ${nat} µs vs rtpengine ${rte} µs CPU per forwarded packet at ${n} calls (target: below)`};
  };
  // judged over each path's steady window (as its CPU); the whole-phase figure is quoted beside it
  const ran = results.flatMap((r) => PATH_NAMES.filter((p) => r[p]).map((p) => ({n: r.calls, p, v: r[p]!.echoPacingErrorUs, phase: r[p]!.echoPacingErrorUsPhase})));
  const worstOf = <T extends {p99: number}>(xs: {n: number; p: PathName; v: T | null}[]) => {
    const got = xs.filter((x) => x.v !== null);
    return got.length ? got.reduce((a, b) => (b.v!.p99 > a.v!.p99 ? b : a)) : null;
  };
  const worstPacing = worstOf(ran);
  const worstPhase = worstOf(ran.map((x) => ({n: x.n, p: x.p, v: x.phase})));
  const unmeasured = worstPacing ? ran.filter((x) => x.v === null).map((x) => `N=${x.n} ${x.p}`) : [];
  const relay1000 = at(1000)?.native ?? at(1000)?.node;
  const rss1000 = relay1000?.window.rssPeakBytes.serve;
  return {
    slaCleanAt600: {
      met: measured600 ? largest !== null && largest >= 600 : null,
      detail: measured600
        ? `largest SLA-clean N (native sim chain) = ${largest ?? 'none'} (target ≥ 600 co-located calls)`
        : 'native path (serve forwarding with the native engine) at N ≥ 600 not measured',
    },
    relayAddsP99At150: {
      met: at150?.overDirect.native && !notNative(at150) ? at150.overDirect.native.addsMs.p99 <= 0.3 : null,
      detail: !at150
        ? 'N=150 not run'
        : !at150.native || notNative(at150)
          ? nativeWhy(at150)
          : at150.overDirect.native
            ? `native relay adds ${at150.overDirect.native.addsMs.p99} ms at p99 over direct at 150 calls (target ≤ 0.3 ms)`
            : 'direct path at 150 not measured',
    },
    relayCpuBelowRtpengineAt150: cpuBelow(150),
    relayCpuBelowRtpengineAt600: cpuBelow(600),
    echoPacingP99: {
      met: worstPacing ? unmeasured.length === 0 && worstPacing.v!.p99 <= 100 : null,
      detail: worstPacing
        ? [
            `echo pacing error p99 ${round(worstPacing.v!.p99 / 1000, 3)} ms at worst over the steady window (N=${worstPacing.n} ${worstPacing.p}; target ≤ 0.1 ms)`,
            ...(unmeasured.length ? [`not measured on ${unmeasured.join(', ')}`] : []),
            ...(worstPhase ? [`over the echo's whole life, teardown included: ${round(worstPhase.v!.p99 / 1000, 3)} ms at worst (N=${worstPhase.n} ${worstPhase.p})`] : []),
          ].join('; ')
        : 'echo did not report its pacing error over any window (echo.mark lines; the node echo keeps no histogram)',
    },
    serveRssAt1000: {
      met: rss1000 ? rss1000 <= 200 * 1048576 : null,
      detail: rss1000 ? `serve (+ engine) peak RSS ${(rss1000 / 1048576).toFixed(1)} MB at 1000 calls, ${relay1000!.path} path (target ≤ 200 MB)` : 'N=1000 relay not run',
    },
  };
}
