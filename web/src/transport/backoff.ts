/**
 * Reconnect delays: exponential from `baseMs`, capped at `maxMs`, with ± `jitter` so that many
 * tabs do not reconnect in lockstep after a server restart.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000, jitter: 0.2 };

/** Delay before reconnect attempt `attempt` (1 = first retry). `random` is in [0, 1). */
export function backoffDelay(attempt: number, random: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const factor = 1 - o.jitter + 2 * o.jitter * random;
  return Math.max(0, Math.round(Math.min(o.maxMs, exp * factor)));
}
