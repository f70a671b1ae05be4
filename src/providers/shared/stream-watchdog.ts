import { ProviderError } from '../../inference/errors';

/** How long a provider may keep us waiting before its first stream event (ms). */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 60_000;
/** How long a provider may keep us waiting between two stream events (ms). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** The longest delay a Node timer holds (a larger one fires at once). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** The two stall limits of a provider request (profile keys `first_byte_timeout_ms`, `idle_timeout_ms`). */
export interface StreamTimeouts {
  /** From sending the request to the first stream event (headers alone do not count). Default 60 s. */
  firstByteTimeoutMs?: number;
  /** Between two stream events. Default 60 s. */
  idleTimeoutMs?: number;
}

type Phase = 'first_byte' | 'idle';

/**
 * Guards one provider request against a stalled provider: a first-byte timer runs from the
 * request until the first stream event, then an idle timer restarts at every event. When one
 * expires the watchdog aborts the request (its `signal` is the one the SDK gets) and the
 * request fails with a retryable `provider_stream` error naming the timeout and its length.
 *
 * It knows nothing of the wire format: `open` wraps the promise of the stream and `watch` the
 * async iteration of events, whatever produces them. The run's own abort (Stop) wins: once the
 * parent signal fired the timers are cleared and nothing expires. `dispose()` clears everything
 * (call it when the attempt ends, however it ends).
 */
export class StreamWatchdog {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private phase: Phase = 'first_byte';
  private events = 0;
  /** When the last event arrived (the idle timer checks it when due, so an event costs no timer call). */
  private lastEventAt = 0;
  private expired: ProviderError | null = null;
  private disposed = false;
  /** Rejects the operation racing the timers (the open request or a pending `next()`: one at a time). */
  private rejectPending: ((err: ProviderError) => void) | null = null;
  private readonly firstByteMs: number;
  private readonly idleMs: number;

  constructor(private readonly parent: AbortSignal, timeouts: StreamTimeouts = {}) {
    this.firstByteMs = clampTimeout(timeouts.firstByteTimeoutMs, DEFAULT_FIRST_BYTE_TIMEOUT_MS);
    this.idleMs = clampTimeout(timeouts.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
    if (parent.aborted) {
      this.controller.abort(parent.reason);
      return;
    }
    parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.arm('first_byte', this.firstByteMs);
  }

  /** The request's signal: fires on the run's abort or when a timeout expires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The timeout error once a timer expired (null otherwise, and always null after the run's abort). */
  get error(): ProviderError | null {
    return this.expired;
  }

  /** True while a timer is armed (for tests: nothing may stay pending after an attempt). */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Throws the timeout error if one expired. */
  throwIfExpired(): void {
    if (this.expired) throw this.expired;
  }

  /** A stream event arrived: the idle timer (re)starts. */
  touch(): void {
    if (this.disposed || this.expired) return;
    this.events++;
    this.lastEventAt = performance.now();
    if (this.phase === 'first_byte' && !this.parent.aborted) this.arm('idle', this.idleMs);
  }

  /** The request that opens the stream (resolves at the response headers), raced against the timers. */
  async open<T>(request: PromiseLike<AsyncIterable<T>>): Promise<AsyncIterable<T>> {
    return this.watch(await this.guard(request));
  }

  /** The stream's events, each `next()` raced against the timers; every event restarts the idle timer. */
  watch<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        const it = source[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await this.guard(it.next());
            if (r.done) this.clear();
            else this.touch();
            return r;
          },
          return: async (value?: unknown) => {
            // Only reached between events (on `break`): lets the SDK release the connection.
            try { await it.return?.(value); } catch { /* the stream is being left anyway */ }
            return { done: true as const, value: value as T };
          },
        };
      },
    };
  }

  /** Clears the timers and detaches from the run's signal; `abort` also tears the request down. */
  dispose(opts: { abort?: boolean } = {}): void {
    this.disposed = true;
    this.clear();
    this.rejectPending = null;
    this.parent.removeEventListener('abort', this.onParentAbort);
    if (opts.abort && !this.controller.signal.aborted) this.controller.abort(this.expired ?? new Error('provider request ended'));
  }

  private readonly onParentAbort = (): void => {
    this.clear();
    this.controller.abort(this.parent.reason);
  };

  private guard<T>(op: PromiseLike<T>): Promise<T> {
    if (this.expired) {
      Promise.resolve(op).then(undefined, () => {}); // settles after the abort; nobody waits for it
      return Promise.reject(this.expired);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectPending = reject;
      op.then(
        (v) => { this.rejectPending = null; resolve(v); },
        (err: unknown) => { this.rejectPending = null; reject(this.expired ?? err); },
      );
    });
  }

  private arm(phase: Phase, ms: number): void {
    this.clear();
    this.phase = phase;
    this.timer = setTimeout(() => this.due(phase, ms), ms);
    this.timer.unref?.();
  }

  /** A timer is due: the idle one waits again for what is left if an event came in the meantime. */
  private due(phase: Phase, ms: number): void {
    this.timer = null;
    if (phase === 'idle') {
      const quiet = performance.now() - this.lastEventAt;
      if (quiet < ms) {
        this.timer = setTimeout(() => this.due(phase, ms), ms - quiet);
        this.timer.unref?.();
        return;
      }
    }
    this.expire(phase, ms);
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private expire(phase: Phase, ms: number): void {
    if (this.disposed || this.expired || this.parent.aborted) return;
    const message = phase === 'first_byte'
      ? `the provider sent nothing for ${ms} ms after the request (first_byte_timeout_ms)`
      : `the provider's stream stalled: nothing for ${ms} ms after event ${this.events} (idle_timeout_ms)`;
    this.expired = new ProviderError('provider_stream', message, { retryable: true });
    this.rejectPending?.(this.expired);
    this.rejectPending = null;
    this.controller.abort(this.expired);
  }
}

/** A usable timer delay: a positive integer up to the timer limit, else the default. */
function clampTimeout(ms: number | undefined, fallback: number): number {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return fallback;
  return Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.round(ms)));
}
