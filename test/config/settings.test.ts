import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {checkLocalAddress, prepareOutDir} from '../../src/config/checks.js';
import {numericHost} from '../../src/engine/engine-select.js';
import {ariSettings} from '../../src/config/flags.js';
import {ConfigError} from '../../src/errors.js';
import {redactSecrets} from '../../src/log/redact.js';

const base = {'ari-url': 'http://127.0.0.1:8088', 'ari-user': 'u', 'ari-pass': 'p', app: 'rtpsla'};

describe('ARI settings', () => {
  test('userinfo in ARI_URL is stripped and used as the credentials when ARI_USER/ARI_PASS are unset', () => {
    const s = ariSettings({...base, 'ari-url': 'http://alice:s%40cret@127.0.0.1:8088/', 'ari-user': undefined, 'ari-pass': undefined});
    expect(s.ariUrl).toBe('http://127.0.0.1:8088');
    expect(s.ariUser).toBe('alice');
    expect(s.ariPass).toBe('s@cret');
  });

  test('ARI_USER/ARI_PASS win over the userinfo, which is stripped all the same', () => {
    const s = ariSettings({...base, 'ari-url': 'http://alice:secret@127.0.0.1:8088'});
    expect(s).toEqual({ariUrl: 'http://127.0.0.1:8088', ariUser: 'u', ariPass: 'p', app: 'rtpsla'});
    expect(JSON.stringify(s)).not.toContain('secret');
  });

  test.each(['rt?psla', 'rt#psla', 'a/b', 'a b', 'a,b', 'a&b', '', '-x'])('APP_NAME %j is refused, naming the setting', (app) => {
    expect(() => ariSettings({...base, app})).toThrow(ConfigError);
    expect(() => ariSettings({...base, app})).toThrow(/^--app\/APP_NAME: /);
  });

  test('usual app names pass', () => {
    for (const app of ['rtpsla', 'rtpsla-2', 'my_app.v1']) expect(ariSettings({...base, app}).app).toBe(app);
  });

  test('secrets are redacted from logged text', () => {
    expect(redactSecrets('/ari/events?app=x&api_key=rtpsla:pw&subscribeAll=true')).toBe('/ari/events?app=x&api_key=[redacted]&subscribeAll=true');
    expect(redactSecrets('connect http://bob:pw@127.0.0.1:8088/ari failed')).toBe('connect http://[redacted]@127.0.0.1:8088/ari failed');
  });
});

describe('settings checked against the machine', () => {
  test('a host name is resolved once to a numeric IPv4 address', async () => {
    await expect(numericHost('localhost', '--echo-host/ECHO_HOST')).resolves.toBe('127.0.0.1');
    await expect(numericHost('127.0.0.5', '--echo-host/ECHO_HOST')).resolves.toBe('127.0.0.5');
    await expect(numericHost('no-such-host.invalid', '--echo-host/ECHO_HOST')).rejects.toThrow(/^--echo-host\/ECHO_HOST: cannot resolve "no-such-host.invalid"/);
  });

  test('a BIND_IP that is not an address of this host is refused', async () => {
    await expect(checkLocalAddress('127.0.0.1', '--bind-ip/BIND_IP')).resolves.toBeUndefined();
    // TEST-NET-3 (RFC 5737): never assigned to a host
    await expect(checkLocalAddress('203.0.113.7', '--bind-ip/BIND_IP')).rejects.toThrow(/^--bind-ip\/BIND_IP: cannot bind a UDP socket to 203\.0\.113\.7 \(EADDRNOTAVAIL\)/);
  });

  test('--out: a missing directory is created; a file, /proc or an unwritable place fail at once', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rtpsla-out-'));
    try {
      expect(prepareOutDir(path.join(dir, 'a', 'b'), '--out/REPORTS_DIR')).toBe(path.join(dir, 'a', 'b'));
      expect(statSync(path.join(dir, 'a', 'b')).isDirectory()).toBe(true);
      writeFileSync(path.join(dir, 'file'), '');
      expect(() => prepareOutDir(path.join(dir, 'file'), '--out/REPORTS_DIR')).toThrow(/^--out\/REPORTS_DIR: .* is not a directory/);
      expect(() => prepareOutDir(path.join(dir, 'file', 'sub'), '--out/REPORTS_DIR')).toThrow(/ENOTDIR/);
      expect(() => prepareOutDir('/proc/x', '--out/REPORTS_DIR')).toThrow(/^--out\/REPORTS_DIR: cannot write reports to \/proc\/x/);
      // root may write to /proc's directory entry check and fails creating the file; a normal user is refused first
      expect(() => prepareOutDir('/proc', '--out/REPORTS_DIR')).toThrow(process.getuid?.() === 0 ? /a file cannot be created there/ : /\/proc is not writable \(EACCES\)/);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
