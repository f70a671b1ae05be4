import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the replay server received. */
export interface RecordedRequest {
  index: number;
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: any; // inspected freely by the tests
}

/**
 * What to answer to one request: a status, headers and either a JSON body (errors) or a list of
 * SSE chunks (already in the provider's wire format), written one by one. `then` says how the
 * response ends after the chunks: normally, never (`hang`, until the client goes away; with no
 * chunks the headers are still sent), or by destroying the socket (a connection reset
 * mid-stream). `silent` accepts the request and never answers, not even headers (a provider
 * stalled before its first byte).
 */
export interface Fixture {
  name: string;
  /** Assertions on the request; a failure answers 400 with the message and is reported by `assertClean()`. */
  check?: (req: RecordedRequest) => void;
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** Written one by one (each its own HTTP chunk); bytes can split a line or a UTF-8 sequence anywhere. */
  chunks?: (string | Uint8Array)[];
  then?: 'end' | 'hang' | 'destroy';
  silent?: boolean;
}

/**
 * A local HTTP server (127.0.0.1, random port) that answers each request with the next fixture
 * in order, records what it got, and checks it. Used by every provider test: the real SDKs talk
 * to it exactly as they would to the provider.
 */
export class ReplayServer {
  readonly requests: RecordedRequest[] = [];
  readonly failures: string[] = [];
  private readonly queue: Fixture[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly closed = new Map<number, Promise<void>>();

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(fixtures: Fixture[] = []): Promise<ReplayServer> {
    let self: ReplayServer | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { void self!.answer(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res); });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new ReplayServer(server, `http://127.0.0.1:${port}`);
    server.on('connection', (s: Socket) => { self!.sockets.add(s); s.on('close', () => self!.sockets.delete(s)); });
    self.push(...fixtures);
    return self;
  }

  /** Queues fixtures for the next requests. */
  push(...fixtures: Fixture[]): void {
    this.queue.push(...fixtures);
  }

  /** Fixtures not consumed yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Drops the fixtures not consumed yet (e.g. a retry the client gave up on before its request arrived); returns how many. */
  discardPending(): number {
    return this.queue.splice(0).length;
  }

  /** Resolves when the response to request `index` closed (ended, or the client went away). */
  responseClosed(index: number): Promise<void> {
    const p = this.closed.get(index);
    if (!p) throw new Error(`no request #${index}`);
    return p;
  }

  /** Throws if a request failed its fixture's check or arrived with no fixture left. */
  assertClean(): void {
    if (this.failures.length) throw new Error(`replay server: ${this.failures.join('\n')}`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(method: string, rawUrl: string, headers: IncomingHttpHeaders, rawBody: string, res: ServerResponse): Promise<void> {
    const url = new URL(rawUrl, 'http://127.0.0.1');
    let body: unknown;
    try { body = rawBody ? JSON.parse(rawBody) : undefined; } catch { body = undefined; }
    const req: RecordedRequest = { index: this.requests.length, method, path: url.pathname, query: url.searchParams, headers, rawBody, body };
    this.requests.push(req);
    this.closed.set(req.index, new Promise((resolve) => res.on('close', () => resolve())));

    const fixture = this.queue.shift();
    if (!fixture) {
      this.failures.push(`request #${req.index} ${method} ${url.pathname}: no fixture left`);
      return this.sendJson(res, 500, { error: { message: 'replay server: no fixture left', type: 'test_error' } });
    }
    try {
      fixture.check?.(req);
    } catch (err) {
      const msg = `request #${req.index} (${fixture.name}) failed its check: ${err instanceof Error ? err.message : String(err)}`;
      this.failures.push(msg);
      return this.sendJson(res, 400, { error: { message: msg, type: 'test_error' } });
    }
    if (fixture.silent) return; // the client must go away (abort) or the server closes
    const status = fixture.status ?? 200;
    if (fixture.json !== undefined) return this.sendJson(res, status, fixture.json, fixture.headers);

    res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...fixture.headers });
    if (!fixture.chunks?.length && fixture.then === 'hang') res.flushHeaders(); // headers, then nothing
    for (const chunk of fixture.chunks ?? []) {
      if (res.destroyed) return;
      await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    switch (fixture.then ?? 'end') {
      case 'end':
        res.end();
        break;
      case 'hang':
        break; // the client must go away (abort) or the server closes
      case 'destroy':
        res.socket?.destroy();
        break;
    }
  }

  private sendJson(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(json);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }
}

/** One SSE event: `event: <name>` (when given) and `data: <json or text>`, then a blank line. */
export function sse(data: unknown, event?: string, eol = '\n'): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}${eol}` : ''}data: ${payload}${eol}${eol}`;
}
