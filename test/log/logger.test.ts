import {createLogger, parseLogLevel} from '../../src/log/logger.js';

function sink(): {lines: string[]; stream: {write(s: string): boolean}} {
  const lines: string[] = [];
  return {lines, stream: {write: (s: string) => (lines.push(s), true)}};
}

const now = () => new Date('2026-11-22T04:30:00.123Z');

describe('logger', () => {
  it('writes one logfmt line per event with timestamp, level, event name and fields', () => {
    const s = sink();
    const log = createLogger({level: 'info', stream: s.stream, now});
    log.info('call.answered', {callId: 'abc', port: 4510, note: 'two words', ok: true});
    expect(s.lines).toEqual(['2026-11-22T04:30:00.123Z info call.answered callId=abc port=4510 note="two words" ok=true\n']);
  });

  it('filters by level', () => {
    const s = sink();
    const log = createLogger({level: 'warn', stream: s.stream, now});
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(s.lines.map((l) => l.split(' ')[1])).toEqual(['warn', 'error']);
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('error')).toBe(true);
  });

  it('child() adds its fields to every line', () => {
    const s = sink();
    const log = createLogger({level: 'debug', stream: s.stream, now, base: {component: 'serve'}}).child({callId: 'c1'});
    log.debug('call.bridged', {bridgeId: 'b1'});
    expect(s.lines[0]).toBe('2026-11-22T04:30:00.123Z debug call.bridged component=serve callId=c1 bridgeId=b1\n');
  });

  it('redacts pass, password and ariPass fields, also nested and in base/child fields', () => {
    const s = sink();
    const log = createLogger({level: 'info', stream: s.stream, now, base: {ariPass: 'hunter2'}}).child({password: 'hunter2'});
    log.info('ari.connect', {user: 'u', pass: 'hunter2', opts: {ariPass: 'hunter2', url: 'http://x'}});
    const line = s.lines.join('');
    expect(line).not.toContain('hunter2');
    expect(line).toContain('ariPass=[redacted]');
    expect(line).toContain('password=[redacted]');
    expect(line).toContain('pass=[redacted]');
    expect(line).toContain('user=u');
    expect(s.lines).toHaveLength(1);
  });

  it('keeps each event on one line', () => {
    const s = sink();
    createLogger({stream: s.stream, now}).error('ari.failed', {err: new Error('a\nb')});
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0].trimEnd()).not.toContain('\n');
  });

  it('parses level names', () => {
    expect(parseLogLevel('DEBUG')).toBe('debug');
    expect(parseLogLevel('loud')).toBeUndefined();
  });
});
