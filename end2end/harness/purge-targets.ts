/**
 * A tiny HTTP server standing in for every purge target (edge, Varnish, webhook).
 *
 *   <ANY METHOD> /t/<name>               a purge target; answers 200 (mode "ok") or 500 (mode "fail")
 *                                        and records the request
 *   POST /__control/fail[?target=n]      switch target n (default "flaky") to failing
 *   POST /__control/ok[?target=n]        switch it back to succeeding
 *   GET  /__control/requests[?target=n]  the recorded requests as JSON
 *   GET  /__control/modes                every target's mode
 *
 * Built on `net`, not `http`: Node's HTTP parser refuses unknown methods, and the
 * Varnish driver sends `PURGE`. One request per connection (`Connection: close`);
 * bodies need a Content-Length (the purge drivers always send one).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export type Mode = 'ok' | 'fail';

export interface RecordedRequest {
  target: string;
  method: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  at: string;
}

interface Req {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error' };

export class PurgeTargets {
  readonly modes = new Map<string, Mode>();
  readonly requests: RecordedRequest[] = [];
  private server?: net.Server;
  private sockets = new Set<net.Socket>();

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
    this.server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(10_000, () => socket.destroy());
    let buf = Buffer.alloc(0);
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [requestLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + length) return;
      done = true;
      const [method = '', target = '/'] = requestLine.split(' ');
      const body = buf.subarray(end + 4, end + 4 + length).toString('utf8');
      const reply = (status: number, contentType: string, text: string) => {
        const payload = Buffer.from(text, 'utf8');
        socket.end(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\ncontent-type: ${contentType}\r\n` +
                `content-length: ${payload.length}\r\nconnection: close\r\n\r\n`,
              'latin1',
            ),
            payload,
          ]),
        );
      };
      if (headers['transfer-encoding']) return reply(400, 'text/plain', 'chunked bodies are not supported here');
      const res = this.handle({ method, url: new URL(target, 'http://localhost'), headers, body });
      reply(res.status, res.json ? 'application/json' : 'text/plain', res.json ? JSON.stringify(res.json) : res.text ?? '');
    });
  }

  private handle(req: Req): { status: number; json?: unknown; text?: string } {
    const { url } = req;
    if (url.pathname.startsWith('/__control/')) {
      const action = url.pathname.slice('/__control/'.length);
      const target = url.searchParams.get('target') ?? 'flaky';
      if ((action === 'fail' || action === 'ok') && req.method === 'POST') {
        this.modes.set(target, action);
        return { status: 200, json: { target, mode: action } };
      }
      if (action === 'requests' && req.method === 'GET') {
        const only = url.searchParams.get('target');
        return { status: 200, json: only ? this.requests.filter((r) => r.target === only) : this.requests };
      }
      if (action === 'modes' && req.method === 'GET') return { status: 200, json: Object.fromEntries(this.modes) };
      return { status: 404, json: { error: `unknown control ${req.method} ${url.pathname}` } };
    }
    // The console's "Check now": an edge's lookup (POST /_lookup beside its
    // purge path) holds the variant for 42 s; a Varnish node's cache-only
    // probe (X-Imgflush-Probe) does not hold it.
    if (url.pathname === '/_lookup' && req.method === 'POST') {
      return { status: 200, json: { cached: true, age: 42, ttl: 100, stale: false, tags: ['products'] } };
    }
    if (req.headers['x-imgflush-probe'] === '1') return { status: 404, json: { cached: false } };
    const m = /^\/t\/([^/]+)\/?$/.exec(url.pathname);
    if (!m) return { status: 404, json: { error: 'no such target' } };
    const target = decodeURIComponent(m[1]);
    this.requests.push({ target, method: req.method, headers: req.headers, body: req.body, at: new Date().toISOString() });
    if ((this.modes.get(target) ?? 'ok') === 'fail') return { status: 500, text: `simulated failure of ${target}` };
    // An edge answers with how many objects it removed (a dry run: would
    // remove, 1,204 objects of 83 MB); the others just need a 2xx.
    let dryRun = false;
    try {
      dryRun = JSON.parse(req.body || '{}').dry_run === true;
    } catch {
      dryRun = false;
    }
    if (dryRun) return { status: 200, json: { removed: 1204, bytes: 83 * 1024 * 1024 } };
    return { status: 200, json: { removed: 1 } };
  }
}
