/**
 * The ARI adapter (src/ari/connection.ts, src/ari/guard.ts) relies on internals of ari-client
 * 2.2.0 and swagger-client 2.0.26, so package.json pins ari-client exactly. This test reads the
 * installed libraries and fails when an upgrade changes what the adapter depends on.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';

const req = createRequire(import.meta.url);
const ariMain = req.resolve('ari-client');
const fromAri = createRequire(ariMain);

describe('ari-client internals the adapter relies on', () => {
  const pkg = JSON.parse(readFileSync(req.resolve('ari-client/package.json'), 'utf8')) as {version: string};
  const clientSource = readFileSync(path.join(path.dirname(req.resolve('ari-client/package.json')), 'lib', 'client.js'), 'utf8');

  it('is exactly the pinned version', () => {
    const ours = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {dependencies: Record<string, string>};
    expect(ours.dependencies['ari-client']).toBe('2.2.0');
    expect(pkg.version).toBe('2.2.0');
  });

  it('keeps its WebSocket in `_ws` and its closed flag in `_wsClosed`', () => {
    expect(clientSource).toMatch(/self\._ws = new WebSocket\(/);
    expect(clientSource).toMatch(/if \(self\._wsClosed\) \{/);
    expect(clientSource).toMatch(/self\._wsClosed = true;/);
  });

  it('loads a swagger-client whose SwaggerApi.prototype.fail the guard patches', () => {
    const swagger = fromAri('swagger-client') as {SwaggerApi?: {prototype: {fail?: unknown}}};
    expect(typeof swagger.SwaggerApi?.prototype.fail).toBe('function');
    const swaggerPkg = JSON.parse(readFileSync(fromAri.resolve('swagger-client/package.json'), 'utf8')) as {version: string};
    expect(swaggerPkg.version).toBe('2.0.26');
  });
});
