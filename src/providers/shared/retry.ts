import { AbortedError, isAbortError, ProviderError } from '../../inference/errors';
import { publishEvent } from '../../inference/event-sinks';
import { makeMeta, type RunIdentity } from '../../inference/events';
import { classifyProviderError } from './errors';

export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_RETRY_BACKOFF_MS = 500;
/** Backoff never grows beyond this. */
export const MAX_BACKOFF_MS = 8_000;
/** A provider asking us to wait longer than this is not retried: the error is reported at once. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface RetryPolicy {
  provider: string;
  model: string;
  run: RunIdentity;
  signal: AbortSignal;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** Base of the exponential backoff (default 500 ms): base · 2^(n-1), jittered, capped. */
  backoffMs?: number;
  /** True once the message published content: from then on every error is final. */
  hasContent: () => boolean;
  /** Redacted from every message that leaves (API keys). */
  secrets?: readonly (string | null | undefined)[];
  /** For tests: how to wait. Must reject with AbortedError when `signal` fires. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** For tests: jitter source in [0, 1). */
  random?: () => number;
}

/**
 * Runs `attempt` and retries it with backoff while nothing has been published yet (a retry
 * before content leaves no ghost message). Each retry publishes a `warn` log; the final error
 * publishes an `error` log and is thrown as a `ProviderError`. An abort throws `AbortedError`
 * and publishes nothing (the runner closes the message).
 */
export async function withProviderRetry<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>): Promise<T> {
  const maxRetries = Math.max(0, policy.maxRetries ?? DEFAULT_MAX_RETRIES);
  const sleep = policy.sleep ?? abortableSleep;
  for (let n = 1; ; n++) {
    if (policy.signal.aborted) throw new AbortedError();
    try {
      return await attempt(n);
    } catch (err) {
      if (policy.signal.aborted || err instanceof AbortedError || isAbortError(err)) throw new AbortedError();
      const pe = classifyProviderError(err, { secrets: policy.secrets });
      const retryAfterMs = pe.opts.retryAfterMs ?? null;
      const canRetry = pe.retryable && !policy.hasContent() && n <= maxRetries
        && (retryAfterMs === null || retryAfterMs <= MAX_RETRY_AFTER_MS);
      if (!canRetry) {
        logProviderError(policy, pe, n);
        throw pe;
      }
      const delayMs = retryAfterMs ?? backoffDelay(n, policy.backoffMs ?? DEFAULT_RETRY_BACKOFF_MS, policy.random ?? Math.random);
      publishEvent({
        type: 'log',
        meta: makeMeta(policy.run, { model: policy.model }),
        level: 'warn',
        message: `${policy.provider} request failed (${pe.code}); retry ${n} of ${maxRetries} in ${delayMs} ms`,
        fields: {
          provider: policy.provider, model: policy.model, attempt: n, maxRetries, code: pe.code,
          status: pe.opts.status ?? null, retryAfterMs, delayMs, error: pe.message,
        },
      });
      await sleep(delayMs, policy.signal);
    }
  }
}

/** Publishes the `error` log of a final provider error (the runner then ends the run with its code). */
export function logProviderError(policy: Pick<RetryPolicy, 'provider' | 'model' | 'run'>, pe: ProviderError, attempts: number): void {
  publishEvent({
    type: 'log',
    meta: makeMeta(policy.run, { model: policy.model }),
    level: 'error',
    message: `${policy.provider} request failed (${pe.code}): ${pe.message}`,
    fields: {
      provider: policy.provider, model: policy.model, code: pe.code, status: pe.opts.status ?? null,
      attempts, retryable: pe.retryable, retryAfterMs: pe.opts.retryAfterMs ?? null,
    },
  });
}

/** base · 2^(n-1), capped, with "equal jitter" (half fixed, half random) so clients spread out. */
export function backoffDelay(retry: number, baseMs: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (retry - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** Waits `ms`, or rejects with AbortedError as soon as `signal` fires. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError());
    const onAbort = () => { clearTimeout(timer); reject(new AbortedError()); };
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
