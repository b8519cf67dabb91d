import http from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
}

export interface FakeHttp {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A throwaway HTTP server on 127.0.0.1 answering with `handler` (status, JSON body or null). */
export function startFakeHttp(
  handler: (req: RecordedRequest) => {status: number; body?: unknown} | Promise<{status: number; body?: unknown}>,
): Promise<FakeHttp> {
  const requests: RecordedRequest[] = [];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      authorization: req.headers.authorization,
    };
    requests.push(rec);
    req.resume();
    req.on('end', () => {
      void Promise.resolve(handler(rec)).then(({status, body}) => {
        if (body === undefined || body === null) {
          res.writeHead(status);
          res.end();
        } else {
          res.writeHead(status, {'content-type': 'application/json'});
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
        }
      });
    });
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((r) => {
            srv.closeAllConnections();
            srv.close(() => r());
          }),
      });
    });
  });
}
