import { CLOSE_CODES, EnvelopeSchema, FrameData, type AnyFrameEvent, type TimelineSnapshot } from '../protocol';
import { noteServerTime } from './server-clock';
import { applyFrames, seqCheck } from '../state/apply-frames';
import { fromSnapshot } from '../state/snapshot';
import { emptyState, type ChatState } from '../state/types';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

/**
 * The live view of one conversation: hydrate from `/api/timeline`, then a WebSocket with
 * `since=<version>&epoch=<epoch>`; frames are applied in seq order (seq <= last applied are
 * dropped; a gap or `ws.resync` re-hydrates); a dropped socket reconnects with backoff + jitter
 * and resumes from the last applied seq; a heartbeat detects dead sockets. Framework-free:
 * React subscribes with `subscribe` / `getView`.
 */

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'deleted' | 'forbidden';

export interface StreamView {
  readonly state: ChatState;
  readonly status: ConnectionStatus;
  /** True once the state came from the server (a snapshot), false while still empty. */
  readonly hydrated: boolean;
}

/** The part of the browser's WebSocket the stream uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface StreamOptions {
  convId: string;
  fetchSnapshot: (convId: string) => Promise<TimelineSnapshot>;
  openSocket: (query: { convId: string; since: number; epoch: string | null }) => SocketLike;
  /** Validate every frame with the protocol schema (ignored frames are reported). */
  validate?: boolean;
  backoff?: BackoffOptions;
  heartbeatMs?: number;
  pongTimeoutMs?: number;
  /** Consecutive failed attempts after which the indicator says "offline". */
  offlineAfter?: number;
  flushMs?: number;
  random?: () => number;
  isOnline?: () => boolean;
  onProblem?: (message: string, detail?: unknown) => void;
}

const OPEN = 1;

/** Thrown by `fetchSnapshot` when retrying cannot help (the conversation is gone or not ours). */
export class TerminalStreamError extends Error {
  constructor(readonly status: 'deleted' | 'forbidden') {
    super(status);
  }
}

export class ConversationStream {
  private view: StreamView;
  private readonly listeners = new Set<() => void>();
  private readonly o: Required<Omit<StreamOptions, 'onProblem'>> & Pick<StreamOptions, 'onProblem'>;
  /** Generation: callbacks of an older socket or hydration are ignored. */
  private gen = 0;
  private socket: SocketLike | null = null;
  private needHydrate = true;
  private stopped = true;
  private attempts = 0;
  private lastResyncAt = 0;
  private lastSeq = 0;
  private pending: AnyFrameEvent[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private connectedWaiters: (() => void)[] = [];

  constructor(opts: StreamOptions) {
    this.o = {
      validate: true,
      backoff: DEFAULT_BACKOFF,
      heartbeatMs: 20_000,
      pongTimeoutMs: 10_000,
      offlineAfter: 5,
      flushMs: 16,
      random: Math.random,
      isOnline: () => true,
      ...opts,
    };
    this.view = { state: emptyState(opts.convId), status: 'connecting', hydrated: false };
  }

  get convId(): string {
    return this.o.convId;
  }

  getView = (): StreamView => this.view;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<StreamView>): void {
    const next = { ...this.view, ...patch };
    if (next.state === this.view.state && next.status === this.view.status && next.hydrated === this.view.hydrated) return;
    this.view = next;
    if (next.status === 'connected') for (const w of this.connectedWaiters.splice(0)) w();
    for (const l of [...this.listeners]) l();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.o.heartbeatMs);
    void this.cycle();
  }

  stop(): void {
    this.stopped = true;
    this.gen++;
    this.flush();
    this.dropSocket();
    for (const t of [this.retryTimer, this.flushTimer, this.pongTimer]) if (t) clearTimeout(t);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.retryTimer = this.flushTimer = this.pongTimer = this.heartbeatTimer = null;
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  /** Resolves when the socket is up (after `ws.hello`), or after `timeoutMs` anyway. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.view.status === 'connected' || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.connectedWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Skips the backoff wait (the browser came back online, the tab became visible). */
  reconnectNow(): void {
    if (this.stopped || this.view.status === 'deleted' || this.view.status === 'forbidden') return;
    if (this.socket && this.socket.readyState <= OPEN) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.cycle();
  }

  /** Re-hydrate from the snapshot and reconnect (a gap, `ws.resync`, a changed epoch). */
  private resync(why: string): void {
    this.o.onProblem?.(`re-hydrating: ${why}`);
    this.needHydrate = true;
    this.flush();
    this.dropSocket();
    this.gen++;
    // Resyncs in quick succession mean something is off: back off instead of looping.
    const now = Date.now();
    const quick = now - this.lastResyncAt < 2_000;
    this.lastResyncAt = now;
    if (quick) this.scheduleRetry();
    else void this.cycle();
  }

  private async cycle(): Promise<void> {
    const gen = ++this.gen;
    if (this.needHydrate) {
      try {
        const snap = await this.o.fetchSnapshot(this.o.convId);
        if (gen !== this.gen || this.stopped) return;
        this.pending = [];
        this.lastSeq = snap.version;
        this.needHydrate = false;
        this.set({ state: fromSnapshot(snap), hydrated: true });
      } catch (err) {
        if (gen !== this.gen || this.stopped) return;
        if (err instanceof TerminalStreamError) return this.terminal(err.status);
        this.o.onProblem?.('hydration failed', err);
        this.scheduleRetry();
        return;
      }
    }
    this.connect(gen);
  }

  private connect(gen: number): void {
    this.flush();
    const { state } = this.view;
    let ws: SocketLike;
    try {
      ws = this.o.openSocket({ convId: this.o.convId, since: this.lastSeq, epoch: state.epoch || null });
    } catch (err) {
      this.o.onProblem?.('cannot open socket', err);
      this.scheduleRetry();
      return;
    }
    this.socket = ws;
    ws.onmessage = (ev) => {
      if (gen === this.gen) this.onMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen === this.gen) this.onClose(ev.code);
    };
    ws.onerror = () => undefined; // onclose follows
  }

  private dropSocket(): void {
    const ws = this.socket;
    this.socket = null;
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = ws.onerror = ws.onopen = null;
    try {
      ws.close(1000, 'client');
    } catch {
      /* already closed */
    }
  }

  private onClose(code: number): void {
    this.flush();
    this.socket = null;
    if (this.stopped) return;
    if (code === CLOSE_CODES.deleted) return this.terminal('deleted');
    if (code === CLOSE_CODES.forbidden) return this.terminal('forbidden');
    this.gen++;
    this.scheduleRetry();
  }

  private terminal(status: 'deleted' | 'forbidden'): void {
    this.set({ status });
    this.stop();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.attempts++;
    const offline = !this.o.isOnline() || this.attempts >= this.o.offlineAfter;
    this.set({ status: offline ? 'offline' : 'reconnecting' });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.cycle();
    }, backoffDelay(this.attempts, this.o.random(), this.o.backoff));
  }

  private onMessage(raw: unknown): void {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
    if (typeof raw !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return this.o.onProblem?.('frame is not JSON', raw.slice(0, 200));
    }
    const ev = (msg as { sem?: unknown; event?: Partial<AnyFrameEvent> } | null)?.event;
    if (!ev || (msg as { sem?: unknown }).sem !== true || typeof ev.type !== 'string') return;
    const seq = typeof ev.seq === 'number' ? ev.seq : null;
    const known = Object.hasOwn(FrameData, ev.type);
    let usable = known;
    if (known && this.o.validate) {
      const r = EnvelopeSchema.safeParse(msg);
      if (!r.success) {
        usable = false;
        this.o.onProblem?.(`invalid ${ev.type} frame (ignored)`, r.error.issues);
      }
    }
    if (seq === null) {
      if (usable) this.onControl(ev as AnyFrameEvent);
      return;
    }
    switch (seqCheck(this.lastSeq, seq)) {
      case 'duplicate':
        return;
      case 'gap':
        return this.resync(`gap: got seq ${seq} after ${this.lastSeq}`);
      case 'apply':
        this.lastSeq = seq;
        // Unknown or invalid frames still occupy their seq: the reducer skips their type.
        this.pending.push(usable ? (ev as AnyFrameEvent) : ({ ...ev, type: 'x.skipped' } as unknown as AnyFrameEvent));
        this.scheduleFlush();
    }
  }

  private onControl(ev: AnyFrameEvent): void {
    switch (ev.type) {
      case 'ws.hello': {
        this.attempts = 0;
        noteServerTime(ev.data.serverTime);
        const { state } = this.view;
        if (state.epoch !== ev.data.epoch && this.lastSeq === 0 && this.pending.length === 0) {
          // Nothing applied yet: the socket replays from seq 1 whatever the epoch.
          this.set({ state: { ...state, epoch: ev.data.epoch }, status: 'connected' });
        } else {
          this.set({ status: 'connected' });
        }
        break;
      }
      case 'ws.resync':
        this.resync(`server: ${ev.data.reason}`);
        break;
      default:
        break; // ws.pong: liveness only
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, this.o.flushMs);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.length === 0) return;
    const frames = this.pending;
    this.pending = [];
    this.set({ state: applyFrames(this.view.state, frames) });
  }

  /** Every `heartbeatMs`: `{"type":"ws.ping"}`; no answer within `pongTimeoutMs` → reconnect. */
  private heartbeat(): void {
    const ws = this.socket;
    if (this.stopped || !ws || ws.readyState !== OPEN || this.pongTimer) return;
    try {
      ws.send(JSON.stringify({ type: 'ws.ping' }));
    } catch {
      return;
    }
    const gen = this.gen;
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      if (gen !== this.gen || this.stopped) return;
      this.o.onProblem?.('heartbeat: no answer; reconnecting');
      this.flush();
      this.dropSocket();
      this.gen++;
      this.scheduleRetry();
    }, this.o.pongTimeoutMs);
  }
}
