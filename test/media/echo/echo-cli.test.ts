import {createSocket, type Socket} from 'node:dgram';
import {parseListeningLine, parseEngineLine} from '../../../src/media/echo/index.js';
import {CliProcess, runCli, sleep} from '../../helpers/cli.js';
import {rtpPacket} from '../../helpers/rtp.js';
import {EchoClient, expectWholeBurst} from './client.js';
import {parseEchoMarks, windowEchoPacing} from '../../../src/bench/paths.js';

const LISTEN_RE = /echo listening on \S+ \(rcvbuf \d+, sndbuf \d+\)\n/;

describe('rtpsla echo (built binary)', () => {
  const procs: CliProcess[] = [];
  const clients: EchoClient[] = [];

  async function startBinary(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{proc: CliProcess; port: number}> {
    const proc = new CliProcess(['echo', '--port', '0', ...args], env);
    procs.push(proc);
    await proc.waitFor(LISTEN_RE);
    const info = parseListeningLine(proc.stdout);
    if (!info) throw new Error(`no listening line in ${proc.stdout}`);
    return {proc, port: info.port};
  }

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 2000)));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('prints one parseable listening line with the real port and buffer sizes, then one parseable line of how its engine measures', async () => {
    const {proc, port} = await startBinary();
    await proc.waitFor(/echo engine /);
    const info = parseListeningLine(proc.stdout)!;
    expect(port).toBeGreaterThan(0);
    expect(info.address).toBe('127.0.0.1');
    expect(info.recvBufferBytes).toBeGreaterThan(0);
    expect(info.sendBufferBytes).toBeGreaterThan(0);
    const lines = proc.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(parseEngineLine(lines[1])).toMatchObject({engine: expect.stringMatching(/^(native|node)$/), timestamps: expect.stringMatching(/^(kernel|user|mixed)$/)});
  });

  it('echoes a burst of 50 packets sent at once, re-paced to their timestamps, in order and byte-identical', async () => {
    const {port} = await startBinary(['--stats-interval-sec', '0']);
    const c = await EchoClient.open();
    clients.push(c);
    const sent: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const b = rtpPacket({seq: 65500 + i, ts: 160 + 160 * i, ssrc: 0xdeadbeef, pt: 0, marker: i === 0});
      for (let k = 12; k < b.length; k++) b[k] = (i + k * 7) & 0xff;
      sent.push(b);
    }
    for (const b of sent) await c.send(b, port);
    const got = await c.waitFor(50, 5000);
    expectWholeBurst(got, sent);
    expect(got[49].tMs - got[0].tMs).toBeGreaterThanOrEqual(900); // 49 frames of 20 ms
  });

  it('exits 0 on SIGTERM with the final counters on stderr, after periodic stats lines', async () => {
    const {proc, port} = await startBinary(['--stats-interval-sec', '1']);
    const s: Socket = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const send = (b: Buffer): Promise<void> => new Promise((r) => s.send(b, port, '127.0.0.1', () => r()));
    for (let i = 0; i < 3; i++) await send(rtpPacket({seq: i, ts: 160 * (i + 1), ssrc: 42}));
    await send(Buffer.from('not rtp'));
    await proc.waitFor(/echo\.stats .*packetsIn=4/, 5000);
    await sleep(100);
    const r = await proc.stop('SIGTERM');
    s.close();
    expect(r).toEqual({code: 0, signal: null});
    const final = proc.stderr.split('\n').find((l) => l.includes('echo.stopped'));
    expect(final).toBeDefined();
    expect(final).toMatch(/signal=SIGTERM/);
    expect(final).toMatch(/packetsIn=4 /);
    expect(final).toMatch(/packetsOut=3 /);
    expect(final).toMatch(/malformed=1 /);
    expect(final).toMatch(/sourcesTotal=1 /);
    expect(proc.stdout).not.toMatch(/echo\.st/); // logs never on stdout
  });

  it('logs one echo.mark per SIGUSR2 (and keeps running); two marks give the pacing error of exactly the packets held between them', async () => {
    const {proc, port} = await startBinary(['--stats-interval-sec', '0', '--log-level', 'info', '--engine', 'native']);
    const c = await EchoClient.open();
    clients.push(c);
    proc.child.kill('SIGUSR2');
    await proc.waitFor(/echo\.mark mark=1 /, 5000);
    // 10 frames at once: the first goes at once, the 9 after it wait for their slots
    for (let i = 0; i < 10; i++) await c.send(rtpPacket({seq: i, ts: 160 * (i + 1), ssrc: 7}), port);
    await c.waitFor(10, 5000);
    await sleep(300); // the engine hands its records over at least every 100 ms
    proc.child.kill('SIGUSR2');
    await proc.waitFor(/echo\.mark mark=2 /, 5000);
    const marks = parseEchoMarks(proc.stderr);
    expect(marks.map((m) => m.pacingErrorCount)).toEqual([0, 9]);
    const w = windowEchoPacing(proc.stderr);
    expect(w.reason).toBeNull();
    expect(w.pacing!.count).toBe(9);
    expect(w.pacing!.p99).toBeGreaterThanOrEqual(0);
    expect(w.pacing!.max).toBeGreaterThanOrEqual(w.pacing!.p99);
    expect(proc.child.exitCode).toBeNull();
    expect((await proc.stop('SIGTERM')).code).toBe(0);
  });

  it('exits 0 on SIGINT too', async () => {
    const {proc} = await startBinary(['--stats-interval-sec', '0']);
    const r = await proc.stop('SIGINT');
    expect(r.code).toBe(0);
    expect(proc.stderr).toMatch(/echo\.stopped signal=SIGINT/);
  });

  it('exits 0 even when SIGTERM arrives the instant the listening line is out', async () => {
    const proc = new CliProcess(['echo', '--port', '0', '--stats-interval-sec', '0']);
    procs.push(proc);
    const signalled = new Promise<void>((resolve) =>
      proc.child.stdout!.once('data', () => {
        proc.child.kill('SIGTERM');
        resolve();
      }),
    );
    await signalled;
    const r = await proc.exited();
    expect(r).toEqual({code: 0, signal: null});
    expect(proc.stderr).toMatch(/echo\.stopped signal=SIGTERM/);
  });

  it('reads the port from ECHO_PORT when --port is not given', async () => {
    const proc = new CliProcess(['echo', '--stats-interval-sec', '0'], {ECHO_PORT: '0', ECHO_HOST: '127.0.0.1'});
    procs.push(proc);
    await proc.waitFor(LISTEN_RE);
    expect(parseListeningLine(proc.stdout)!.port).toBeGreaterThan(0);
  });

  it('--help shows the flags and examples', async () => {
    const r = await runCli(['echo', '--help'], {timeoutMs: 20_000});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/rtpsla echo --port 0/);
    expect(r.stdout).toMatch(/ECHO_PORT/);
    expect(r.stdout).toMatch(/--idle-expiry-ms/);
  });

  it.each([
    [['--port', 'abc'], {}],
    [['--port', '70000'], {}],
    [[], {ECHO_PORT: '-1'}],
  ])('rejects a bad port %j %j with one line and exit 2', async (args, env) => {
    const r = await runCli(['echo', ...args], {env, timeoutMs: 20_000});
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rtpsla echo: --port\/ECHO_PORT: .* is not a port/);
    expect(r.stdout).toBe('');
  });

  it('rejects a port in use with one line and exit 2', async () => {
    const {port} = await startBinary(['--stats-interval-sec', '0']);
    const r = await runCli(['echo', '--port', String(port)], {timeoutMs: 20_000});
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^rtpsla echo: cannot bind UDP 127\.0\.0\.1:\d+: EADDRINUSE$/);
  });
});
