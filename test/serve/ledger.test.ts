import {callRecordFrom} from '../../src/metrics/call-record-from.js';
import {ServeLedger, type LedgerCall} from '../../src/serve/ledger.js';
import {RunStore} from '../../src/serve/run-store.js';
import {LatencyHistogram} from '../../src/metrics/histogram.js';

const call = (index: number, runId: string | null): LedgerCall => ({
  callerId: `c${runId}-${index}`, emId: `em${index}`, bridgeId: `b${index}`, runId, index, state: 'up', startedAt: new Date(), setupMs: null, port: null, meter: null,
});

function end(ledger: ServeLedger, c: LedgerCall): void {
  const at = new Date();
  ledger.callEnded(c, null, callRecordFrom(null, {
    index: c.index, runId: c.runId, channelId: c.callerId, externalMediaChannelId: c.emId, bridgeId: c.bridgeId, port: null,
    startedAt: at, endedAt: at, tStartUs: 0, tEndUs: 0, setupMs: null, endReason: 'caller left Stasis', error: null,
  }));
}

/** Record `n` values of `valueUs` into every histogram of the call's sinks, as its meter would. */
function measure(ledger: ServeLedger, runId: string | null, n: number, valueUs: number): void {
  const s = ledger.sinksFor(runId);
  for (let i = 0; i < n; i++) {
    for (const h of [...s.lateness, ...s.rtt, ...(s.upLateness ?? []), ...(s.relayHold ?? [])]) h.recordUs(valueUs);
  }
}

const counts = (h: {lateness: LatencyHistogram; rtt: LatencyHistogram; upLateness: LatencyHistogram; relayHold: LatencyHistogram}) =>
  [h.lateness.count, h.rtt.count, h.upLateness.count, h.relayHold.count];

describe('ServeLedger histograms', () => {
  it('records each value once: into its run, or serve\'s own set, and reads the whole as their merge', () => {
    const ledger = new ServeLedger({engine: 'native', format: 'ulaw'});
    const sinks = ledger.sinksFor('r1');
    expect(sinks.lateness).toHaveLength(1);
    measure(ledger, 'r1', 3, 1000);
    measure(ledger, 'r2', 2, 5000);
    measure(ledger, null, 4, 9000);
    const all = ledger.histograms();
    expect(counts(all)).toEqual([9, 9, 9, 9]);
    expect(all.lateness.maxUs()).toBeGreaterThanOrEqual(8990);
    // reading again neither doubles nor loses anything
    expect(counts(ledger.histograms())).toEqual([9, 9, 9, 9]);
    // the run's own histograms hold only its values
    const c = call(1, 'r1');
    ledger.callStarted(c, null);
    end(ledger, c);
    const r1 = ledger.runRecords('r1', false);
    expect(r1?.histograms).not.toBeNull();
    const h = LatencyHistogram.fromBase64(r1!.histograms!.latenessUs);
    expect(h.count).toBe(3);
  });

  it('keeps a consumed or evicted run\'s values in the whole', () => {
    const ledger = new ServeLedger({engine: 'native', format: 'ulaw', runs: new RunStore(3_600_000, 1)});
    measure(ledger, 'r1', 5, 2000);
    const c = call(1, 'r1');
    ledger.callStarted(c, null);
    end(ledger, c);
    expect(ledger.runRecords('r1', true)).toBeDefined();
    expect(ledger.runsKept).toBe(0);
    measure(ledger, 'r2', 2, 3000);
    measure(ledger, 'r3', 1, 4000); // the store keeps one run: r2 is evicted
    expect(ledger.runsKept).toBe(1);
    expect(counts(ledger.histograms())).toEqual([8, 8, 8, 8]);
  });

  it('keeps a run in the store while a call of it is live, beyond the run limit and the TTL', () => {
    let nowMs = 1_000_000;
    const realNow = Date.now;
    Date.now = () => nowMs;
    try {
      const ledger = new ServeLedger({engine: 'native', format: 'ulaw', runs: new RunStore(60_000, 1)});
      const live = call(1, 'r1');
      ledger.callStarted(live, null);
      const sinks = ledger.sinksFor('r1');
      sinks.rtt[0].recordUs(100);
      measure(ledger, 'r2', 1, 3000); // over the limit of one run, but r1 is live and r2 just made
      expect(ledger.runsKept).toBe(2);
      nowMs += 3_600_000; // far past the TTL
      sinks.rtt[0].recordUs(200);
      const progress = ledger.runRecords('r1', false); // expires r2, not the live r1
      expect(progress).toMatchObject({activeCalls: 1, calls: [], histograms: null});
      expect(ledger.runsKept).toBe(1);
      expect(ledger.histograms().rtt.count).toBe(3);
      end(ledger, live);
      const r1 = ledger.runRecords('r1', false);
      expect(r1?.calls).toHaveLength(1);
      expect(LatencyHistogram.fromBase64(r1!.histograms!.rttUs).count).toBe(2); // both values, the one after the TTL too
      measure(ledger, 'r3', 1, 4000); // r1 is no longer live: evicted now, its counts stay in the whole
      expect(ledger.runsKept).toBe(1);
      expect(ledger.histograms().rtt.count).toBe(4);
    } finally {
      Date.now = realNow;
    }
  });
});
