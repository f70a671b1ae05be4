import WebSocket from 'ws';
import { EnvelopeSchema } from '../../src/protocol/frames';

/**
 * A WebSocket client for integration tests built on `ws`: collects every envelope the server
 * sends, validates each with the protocol's `EnvelopeSchema` (failures are recorded and
 * asserted by `expectValid`), and waits for conditions (never for a fixed time).
 */

export interface Frame {
  /** The exact text the server sent. */
  raw: string;
  type: string;
  id: string;
  seq: number | null;
  stream_id: string | null;
  data: any;
  metadata: any;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface ConnectOptions {
  since?: number;
  epoch?: string;
  /** Validate every frame with EnvelopeSchema (default true). */
  validate?: boolean;
}

interface Waiter {
  pred: () => boolean;
  resolve: () => void;
  reject: (e: Error) => void;
  allowClose: boolean;
  what: string;
}

export class WsClient {
  /** Every frame received, control frames included, in arrival order. */
  readonly frames: Frame[] = [];
  /** Log frames only (seq !== null). */
  readonly log: Frame[] = [];
  readonly invalid: { raw: string; error: string }[] = [];
  /** Text that was not JSON at all. */
  readonly garbage: string[] = [];
  closeInfo: CloseInfo | null = null;
  private readonly counts = new Map<string, number>();
  private waiters: Waiter[] = [];
  readonly closed: Promise<CloseInfo>;

  private constructor(
    readonly ws: WebSocket,
    readonly url: string,
    private readonly validate: boolean,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: String(reason) };
        resolve(this.closeInfo);
        this.check();
      });
    });
    ws.on('error', () => undefined); // surfaced through close
  }

  /** Opens `/ws?conv_id=…[&since&epoch]` on `wsBase` (`ws://127.0.0.1:PORT`). */
  static connect(wsBase: string, convId: string, opts: ConnectOptions = {}): Promise<WsClient> {
    const q = new URLSearchParams({ conv_id: convId });
    if (opts.since !== undefined) q.set('since', String(opts.since));
    if (opts.epoch !== undefined) q.set('epoch', opts.epoch);
    const url = `${wsBase}/ws?${q}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      // Listeners are attached before 'open', so nothing sent right after the upgrade is lost.
      const client = new WsClient(ws, url, opts.validate ?? true);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (req, res) => {
        reject(new Error(`upgrade refused: ${res.statusCode}`));
        req.destroy();
      });
    });
  }

  /** Opens a socket and waits for its `ws.hello`. */
  static async open(wsBase: string, convId: string, opts: ConnectOptions = {}): Promise<WsClient> {
    const c = await WsClient.connect(wsBase, convId, opts);
    await c.waitFor(() => c.count('ws.hello') >= 1, 'ws.hello', { allowClose: true });
    return c;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const raw = isBinary ? `<binary ${data.length} bytes>` : data.toString('utf8');
    let env: any;
    try {
      env = JSON.parse(raw);
    } catch {
      this.garbage.push(raw);
      this.check();
      return;
    }
    if (this.validate) {
      const r = EnvelopeSchema.safeParse(env);
      if (!r.success) this.invalid.push({ raw, error: r.error.message });
    }
    const ev = env?.event ?? {};
    const f: Frame = { raw, type: ev.type, id: ev.id, seq: ev.seq ?? null, stream_id: ev.stream_id ?? null, data: ev.data, metadata: ev.metadata };
    this.frames.push(f);
    if (f.seq !== null) this.log.push(f);
    this.counts.set(f.type, (this.counts.get(f.type) ?? 0) + 1);
    this.check();
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (w.pred()) {
        w.resolve();
        return false;
      }
      if (this.closeInfo && !w.allowClose) {
        w.reject(new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${w.what}; ${this.describe()}`));
        return false;
      }
      return true;
    });
  }

  describe(): string {
    const tail = this.frames.slice(-8).map((f) => `${f.type}#${f.seq}`).join(', ');
    return `${this.frames.length} frames, last seq ${this.lastSeq}, tail [${tail}]`;
  }

  /** Resolves when `pred` holds; rejects on timeout or when the socket closes first. */
  waitFor(pred: () => boolean, what: string, opts: { timeoutMs?: number; allowClose?: boolean } = {}): Promise<void> {
    if (pred()) return Promise.resolve();
    const allowClose = opts.allowClose ?? false;
    if (this.closeInfo && !allowClose) {
      return Promise.reject(new Error(`socket closed (${this.closeInfo.code}) before ${what}; ${this.describe()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timeout waiting for ${what}; ${this.describe()}`));
      }, opts.timeoutMs ?? 20_000);
      const waiter: Waiter = {
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        allowClose,
        what,
      };
      this.waiters.push(waiter);
    });
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  get lastSeq(): number {
    return this.log.length ? this.log[this.log.length - 1]!.seq! : 0;
  }

  get hello(): Frame | undefined {
    return this.frames.find((f) => f.type === 'ws.hello');
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  waitSeq(seq: number, opts: { timeoutMs?: number } = {}): Promise<void> {
    return this.waitFor(() => this.lastSeq >= seq, `seq ${seq}`, opts);
  }

  waitType(type: string, n = 1, opts: { timeoutMs?: number; allowClose?: boolean } = {}): Promise<void> {
    return this.waitFor(() => this.count(type) >= n, `${n}× ${type}`, opts);
  }

  /** Waits for the close and returns its code and reason. */
  async waitClose(timeoutMs = 20_000): Promise<CloseInfo> {
    await this.waitFor(() => this.closeInfo !== null, 'close', { timeoutMs, allowClose: true });
    return this.closeInfo!;
  }

  send(text: string): void {
    this.ws.send(text);
  }

  close(): Promise<CloseInfo> {
    if (!this.closeInfo) this.ws.close(1000, 'bye');
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Stops reading from the TCP socket (a slow consumer); `resume()` reads again. */
  pauseReading(): void {
    (this.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  }
  resumeReading(): void {
    (this.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  }
}

/** Asserts-free helper: the first gap or duplicate in `seqs` starting at `from`, else null. */
export function firstSeqProblem(seqs: readonly number[], from: number): string | null {
  for (let i = 0; i < seqs.length; i++) {
    if (seqs[i] !== from + i) return `at index ${i}: expected seq ${from + i}, got ${seqs[i]}`;
  }
  return null;
}

/** An upgrade the server must refuse: resolves with the HTTP status and JSON body (rejects if it upgrades). */
export function refusedUpgrade(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`upgraded ${url}, expected a refusal`));
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += String(d)));
      res.on('end', () => {
        req.destroy();
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
  });
}

/** Every frame that failed EnvelopeSchema or was not JSON, on any of `clients` (for an afterEach check). */
export function frameProblems(clients: readonly WsClient[]): string[] {
  return clients.flatMap((c) => [
    ...c.invalid.map((i) => `${c.url}: invalid envelope ${i.raw.slice(0, 200)}: ${i.error.slice(0, 300)}`),
    ...c.garbage.map((g) => `${c.url}: not JSON: ${g.slice(0, 200)}`),
  ]);
}
