/**
 * The server's clock as seen from this browser: every `ws.hello` carries `serverTime`, so
 * deadlines the server sets (pause countdowns) are shown right even when the two clocks differ.
 */
let offsetMs = 0;

/** Records the server time from a `ws.hello` (received now). */
export function noteServerTime(serverTimeMs: number, localNowMs: number = Date.now()): void {
  if (Number.isFinite(serverTimeMs)) offsetMs = serverTimeMs - localNowMs;
}

/** Now, on the server's clock. */
export function serverNow(localNowMs: number = Date.now()): number {
  return localNowMs + offsetMs;
}
