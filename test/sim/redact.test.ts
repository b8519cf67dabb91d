import {connect} from 'node:net';
import {createLogger} from '../../src/log/logger.js';
import {startSim} from '../../src/sim/index.js';

test('a request aborted mid-body is logged without its api_key credentials', async () => {
  let logged = '';
  const logger = createLogger({level: 'debug', stream: {write: (line: string) => (logged += line)}});
  const sim = await startSim({port: 0, seed: 5, user: 'u', pass: 's3cret-pass', logger});
  try {
    const {port} = new URL(sim.url);
    await new Promise<void>((resolve) => {
      const sock = connect(Number(port), '127.0.0.1', () => {
        sock.write('POST /ari/channels?endpoint=Local%2Fs&app=x&api_key=u:s3cret-pass HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"variables":');
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 100);
      });
    });
    const deadline = Date.now() + 3000;
    while (!logged.includes('sim.http.error') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(logged).toContain('sim.http.error');
    expect(logged).toContain('api_key=[redacted]');
    expect(logged).not.toContain('s3cret-pass');
  } finally {
    await sim.close();
  }
});
