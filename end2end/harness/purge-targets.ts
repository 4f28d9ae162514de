/**
 * A tiny HTTP server standing in for every purge target (edge, Varnish, webhook).
 *
 *   <ANY METHOD> /t/<name>            a purge target; answers 200 (mode "ok") or 500 (mode "fail"),
 *                                     and records the request
 *   POST /__control/fail[?target=n]   switch target n (default "flaky") to failing
 *   POST /__control/ok[?target=n]     switch it back to succeeding
 *   GET  /__control/requests[?target=n]  the recorded requests as JSON
 *   GET  /__control/modes             every target's mode
 *
 * Runnable alone for manual checks: `npx tsx harness/purge-targets.ts 4000` is not needed by the tests;
 * the Playwright global setup starts it in-process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode = 'ok' | 'fail';

export interface RecordedRequest {
  target: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: string;
}

export class PurgeTargets {
  readonly modes = new Map<string, Mode>();
  readonly requests: RecordedRequest[] = [];
  private server?: http.Server;

  constructor(initial: Record<string, Mode> = {}) {
    for (const [k, v] of Object.entries(initial)) this.modes.set(k, v);
  }

  url(name: string): string {
    return `${this.base}/t/${encodeURIComponent(name)}`;
  }

  get base(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('purge targets server is not listening');
    return `http://127.0.0.1:${addr.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = Buffer.concat(chunks).toString('utf8');
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.pathname.startsWith('/__control/')) {
        const action = url.pathname.slice('/__control/'.length);
        const target = url.searchParams.get('target') ?? 'flaky';
        if ((action === 'fail' || action === 'ok') && req.method === 'POST') {
          this.modes.set(target, action);
          return json(200, { target, mode: action });
        }
        if (action === 'requests' && req.method === 'GET') {
          const only = url.searchParams.get('target');
          return json(200, only ? this.requests.filter((r) => r.target === only) : this.requests);
        }
        if (action === 'modes' && req.method === 'GET') return json(200, Object.fromEntries(this.modes));
        return json(404, { error: `unknown control ${req.method} ${url.pathname}` });
      }
      const m = /^\/t\/([^/]+)\/?$/.exec(url.pathname);
      if (!m) return json(404, { error: 'no such target' });
      const target = decodeURIComponent(m[1]);
      this.requests.push({ target, method: req.method ?? '', headers: req.headers, body, at: new Date().toISOString() });
      if ((this.modes.get(target) ?? 'ok') === 'fail') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`simulated failure of ${target}`);
        return;
      }
      // An edge answers with how many objects it removed; others just need a 2xx.
      return json(200, { removed: 1 });
    });
  }
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 0);
  const t = new PurgeTargets();
  t.start(port).then(() => console.log(`purge targets on ${t.base}`));
}
