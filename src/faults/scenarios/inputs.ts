/** Fault scenarios: bad input: report files, configuration, credentials in URLs, an echo host name. */
import {execFileSync} from 'node:child_process';
import {truncateSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {type Exit, type Stack, serveMetric} from '../harness.js';
import type {Report} from '../../protocol/report.js';
import {type Scenario, fired, exitText, noLeak, reportText, loadScenario, loadFigures} from './kit.js';

/** The bad files made from a real report, in `dir`. */
function badReportFiles(dir: string, report: Report): {corrupt: string; huge: string; fifo: string; inconsistent: string} {
  const text = JSON.stringify(report);
  const corrupt = path.join(dir, 'corrupt.json');
  writeFileSync(corrupt, text.slice(0, Math.floor(text.length / 2)));
  const huge = path.join(dir, 'huge.json');
  writeFileSync(huge, '');
  truncateSync(huge, 300 * 2 ** 20);
  const fifo = path.join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  const inconsistent = path.join(dir, 'inconsistent.json');
  const bad = structuredClone(report);
  bad.calls[0].lost = 500;
  writeFileSync(inconsistent, JSON.stringify(bad));
  return {corrupt, huge, fifo, inconsistent};
}

export const badReports: Scenario = {
  name: 'bad-report-files',
  ci: true,
  done: 'sla on a real report made corrupt (truncated), huge (300 MB sparse), a FIFO, and inconsistent (clean summary, 500 lost in calls[])',
  expected: 'corrupt, huge and FIFO: exit 2 naming the file, within seconds; inconsistent: exit 1 naming "consistent"',
  timeoutMs: 120_000,
  async run(ctx) {
    const stack = await ctx.stack();
    const run = await ctx.load(stack, {count: 1, durationMs: 2000, runId: 'base'});
    if (!run.report) throw new Error(`the base run wrote no report (load ${exitText(run.exit)}): ${run.exit.output.slice(-500)}`);
    const good = path.join(ctx.dir, 'good.json');
    writeFileSync(good, JSON.stringify(run.report));
    const {corrupt, huge, fifo, inconsistent} = await ctx.inject('corrupt, huge, FIFO and inconsistent report files', () => badReportFiles(ctx.dir, run.report!), {
      corrupt: good, huge: good, fifo: good, inconsistent: good,
    });
    const cases = await Promise.all([corrupt, huge, fifo].map((f) => ctx.run('sla', ['sla', f], {}, 20_000)));
    const inc = await ctx.sla(inconsistent);
    const names = ['corrupt', 'huge', 'FIFO'];
    return {
      measured: [
        ...cases.map((c, i) => {
          const file = [corrupt, huge, fifo][i];
          const why = c.output.split('\n').find((l) => l.includes(`${file}: `))?.split(`${file}: `)[1] ?? '';
          return `${names[i]}: ${exitText(c)} in ${c.durationMs} ms: ${why.slice(0, 60)}`;
        }),
        `inconsistent: ${exitText(inc.exit)}, failed ${inc.failed.join(', ')}: ${(inc.measured.consistent ?? '').replace(/^inconsistent: /, '')}`,
      ],
      checks: [
        ...cases.map((c, i) => fired(`${names[i]}: exit 2 naming the file`, c.code === 2 && c.output.includes([corrupt, huge, fifo][i]))),
        fired('huge refused by size', /over the 256 MB limit/.test(cases[1].output)),
        fired('FIFO refused unread', /is a FIFO/.test(cases[2].output)),
        fired('inconsistent: exit 1 naming consistent', inc.exit.code === 1 && inc.failed.includes('consistent') && /summary\.lost is 0, calls\[\] say 500/.test(inc.measured.consistent ?? '')),
      ],
      figures: {exitCodes: {corrupt: exitText(cases[0]), huge: exitText(cases[1]), fifo: exitText(cases[2]), inconsistent: exitText(inc.exit)}},
    };
  },
};

interface ConfigCase {
  label: string;
  args: string[];
  env: Record<string, string>;
  setting: RegExp;
}

export const badConfig: Scenario = {
  name: 'bad-config',
  ci: true,
  done: 'serve with APP_NAME "rt?psla", "rt#psla", "rt psla", BIND_IP 203.0.113.7 (not on this host), ECHO_HOST no-such-host.invalid; load with --out /proc/x, --out <a file>, APP_NAME "a/b"',
  expected: 'each: exit 2 within 10 s with one line naming the setting, before anything starts',
  timeoutMs: 90_000,
  async run(ctx) {
    const ari = {ARI_URL: 'http://127.0.0.1:9', ARI_USER: 'u', ARI_PASS: 'p'};
    const file = path.join(ctx.dir, 'not-a-dir');
    writeFileSync(file, '');
    const serve = (env: Record<string, string>) => ({args: ['serve', '--metrics-port', '0', '--log-level', 'warn'], env: {...ari, ...env}});
    const load = (args: string[], env: Record<string, string> = {}) => ({args: ['load', '--count', '1', '--duration-ms', '1000', ...args], env: {...ari, ...env}});
    const cases: ConfigCase[] = [
      {label: 'APP_NAME=rt?psla', ...serve({APP_NAME: 'rt?psla'}), setting: /--app\/APP_NAME/},
      {label: 'APP_NAME=rt#psla', ...serve({APP_NAME: 'rt#psla'}), setting: /--app\/APP_NAME/},
      {label: 'APP_NAME="rt psla"', ...serve({APP_NAME: 'rt psla'}), setting: /--app\/APP_NAME/},
      {label: 'BIND_IP=203.0.113.7', ...serve({BIND_IP: '203.0.113.7'}), setting: /--bind-ip\/BIND_IP.*EADDRNOTAVAIL/},
      {label: 'ECHO_HOST=no-such-host.invalid', ...serve({ECHO_HOST: 'no-such-host.invalid'}), setting: /--echo-host\/ECHO_HOST/},
      {label: 'load --out /proc/x', ...load(['--out', '/proc/x']), setting: /--out\/REPORTS_DIR/},
      {label: 'load --out <a file>', ...load(['--out', file]), setting: /--out\/REPORTS_DIR.*not a directory/},
      {label: 'load APP_NAME=a/b', ...load([], {APP_NAME: 'a/b'}), setting: /--app\/APP_NAME/},
    ];
    const tried = await ctx.inject('the bad settings', () => cases, []);
    const exits = await Promise.all(tried.map((c) => ctx.run(c.label, c.args, c.env, 15_000)));
    const lines = (e: Exit) => e.output.trim().split('\n').filter((l) => l.trim() !== '');
    return {
      measured: tried.map((c, i) => `${c.label}: ${exitText(exits[i])} in ${(exits[i].durationMs / 1000).toFixed(1)} s, "${(/^rtpsla \w+: (--[\w-]+\/[A-Z_]+)/.exec(lines(exits[i]).at(-1) ?? '') ?? [])[1] ?? '?'}" named`),
      checks: [
        fired(`all ${cases.length} bad settings tried`, exits.length === cases.length),
        ...tried.map((c, i) => ({
          what: `${c.label}: exit 2, one line naming the setting, < 10 s`,
          ok: exits[i].code === 2 && lines(exits[i]).length === 1 && c.setting.test(exits[i].output) && exits[i].durationMs < 10_000,
        })),
      ],
      figures: {messages: Object.fromEntries(tried.map((c, i) => [c.label, lines(exits[i]).at(-1) ?? '']))},
    };
  },
};

export const userinfo: Scenario = {
  name: 'ari-url-userinfo',
  ci: true,
  done: 'serve and load given ARI_URL=http://user:pass@host (ARI_USER/ARI_PASS unset); 1 call of 2 s',
  expected: 'the userinfo is the credentials and appears nowhere: not in report.target.ariUrl, the table, or any log line',
  timeoutMs: 90_000,
  async run(ctx) {
    const s = ctx.startSim();
    const e = ctx.startEcho();
    const [simUrl, echoPort] = await Promise.all([s.url, e.port]);
    const noCreds = await ctx.inject('credentials only in ARI_URL\'s userinfo', () => ({ARI_URL: simUrl.replace('http://', `http://${ctx.user}:${ctx.pass}@`), ARI_USER: '', ARI_PASS: ''}), {
      ARI_URL: simUrl, ARI_USER: ctx.user, ARI_PASS: ctx.pass,
    });
    const {serve, url} = await ctx.startServe(simUrl, echoPort, ['--log-level', 'info'], noCreds);
    const stack: Stack = {sim: s.sim, echo: e.echo, serve, simUrl, echoPort, serveUrl: url, ari: ctx.rest(simUrl), env: noCreds};
    const r = await loadScenario(ctx, {count: 1, durationMs: 2000, runId: 'userinfo',
      stack,
      after: () => ctx.run('load-table', ['load', '--count', '1', '--duration-ms', '1000', '--serve-url', url, '--out', ctx.dir, '--run-id', 'userinfo-table'], noCreds, 60_000),
    });
    const {run, after: table} = r;
    const everything = [run.exit.output, table.output, serve.output, JSON.stringify(run.report ?? {})].join('\n');
    return {
      measured: [`target.ariUrl ${run.report?.target.ariUrl ?? 'no report'}`, `password found in output: ${everything.includes(ctx.pass)}`],
      checks: [
        fired('the credentials were given only in the URL', /\/\/[^/]*@/.test(noCreds.ARI_URL) && noCreds.ARI_USER === ''),
        {what: 'both loads exit 0 (credentials taken from the URL)', ok: run.exit.code === 0 && table.code === 0},
        {what: 'report.target.ariUrl without userinfo', ok: run.report?.target.ariUrl === simUrl},
        {what: 'the password appears nowhere', ok: !everything.includes(ctx.pass)},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r, {exitCodes: {load: exitText(run.exit), 'load (table)': exitText(table)}}),
    };
  },
};

export const echoHostName: Scenario = {
  name: 'echo-host-name',
  ci: true,
  done: 'serve with ECHO_HOST=localhost; 2 calls of 3 s',
  expected: 'the name is resolved once at start-up: every packet comes back (0 lost), none counted foreign',
  timeoutMs: 90_000,
  async run(ctx) {
    const serveEnv = await ctx.inject('ECHO_HOST=localhost', () => ({ECHO_HOST: 'localhost'}), {ECHO_HOST: '127.0.0.1'});
    const r = await loadScenario(ctx, {count: 2, durationMs: 3000, runId: 'echo-localhost', serve: {serveEnv},
      after: (stack) => serveMetric(stack.serveUrl, 'foreign'),
    });
    const foreign = r.after;
    const s = r.run.report?.summary;
    return {
      measured: [reportText(r.run.report), `packets back ${s?.packetsBack ?? 'n/a'}, foreign ${foreign ?? 'n/a'}`],
      checks: [
        fired('serve was given a host name for the echo', serveEnv.ECHO_HOST === 'localhost'),
        {what: 'packets came back, 0 lost', ok: !!s && s.packetsBack > 0 && s.lost === 0},
        {what: 'none counted foreign', ok: foreign === 0},
        {what: 'no call failed', ok: s?.callsFailed === 0},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};
