import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Fixture, RecordedRequest } from '../../src/providers/testing/replay-server';

/** A fixture that stops after `holdAfter` chunks until `release` resolves, then finishes normally. */
export interface HeldFixture extends Fixture {
  holdAfter?: number;
  release?: Promise<void>;
}

/**
 * A replay server like `src/providers/testing/replay-server.ts` (same fixtures, same checks) whose
 * streams can pause mid-way and resume: a run that is slow but finishes untouched.
 */
export class HeldReplayServer {
  readonly requests: RecordedRequest[] = [];
  readonly failures: string[] = [];
  private readonly queue: HeldFixture[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly holdListeners = new Set<() => void>();
  /** Indexes of requests whose stream is paused right now. */
  readonly held = new Set<number>();

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<HeldReplayServer> {
    let self: HeldReplayServer | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { void self!.answer(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res); });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new HeldReplayServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', (s: Socket) => { self!.sockets.add(s); s.on('close', () => self!.sockets.delete(s)); });
    return self;
  }

  push(...fixtures: HeldFixture[]): void {
    this.queue.push(...fixtures);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once request `index` is paused at its hold point. */
  whenHeld(index: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => { if (this.held.has(index)) { this.holdListeners.delete(check); resolve(); } };
      this.holdListeners.add(check);
      check();
    });
  }

  assertClean(): void {
    if (this.failures.length) throw new Error(`held replay server: ${this.failures.join('\n')}`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(method: string, rawUrl: string, headers: RecordedRequest['headers'], rawBody: string, res: ServerResponse): Promise<void> {
    const url = new URL(rawUrl, 'http://127.0.0.1');
    let body: unknown;
    try { body = rawBody ? JSON.parse(rawBody) : undefined; } catch { body = undefined; }
    const req: RecordedRequest = { index: this.requests.length, method, path: url.pathname, query: url.searchParams, headers, rawBody, body };
    this.requests.push(req);
    const fixture = this.queue.shift();
    const fail = (msg: string) => {
      this.failures.push(msg);
      const text = JSON.stringify({ error: { message: msg, type: 'test_error' } });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!fixture) return fail(`request #${req.index} ${method} ${url.pathname}: no fixture left`);
    try {
      fixture.check?.(req);
    } catch (err) {
      return fail(`request #${req.index} (${fixture.name}) failed its check: ${err instanceof Error ? err.message : String(err)}`);
    }
    res.writeHead(fixture.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...fixture.headers });
    const chunks = fixture.chunks ?? [];
    for (let i = 0; i < chunks.length; i++) {
      if (i === fixture.holdAfter && fixture.release) {
        this.held.add(req.index);
        for (const l of [...this.holdListeners]) l();
        await fixture.release;
        this.held.delete(req.index);
      }
      if (res.destroyed) return;
      await new Promise<void>((resolve) => res.write(chunks[i], () => resolve()));
    }
    res.end();
  }
}
