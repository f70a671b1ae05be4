/**
 * What the webchat runtime reports. The server passes an implementation backed by
 * prom-client; tests and embedders may pass nothing (no-op).
 */
export interface WebchatMetrics {
  /** `bytes`: the frames' JSON bytes (the log's own payload, for write amplification). */
  framesAppended(n: number, bytes?: number): void;
  framesSent(n: number): void;
  commitLatencyMs(ms: number, frames: number): void;
  commitFailed(): void;
  socketDropped(reason: string): void;
  socketsChanged(delta: number): void;
  conversationsLoaded(n: number): void;
  runStarted(): void;
  runEnded(status: string): void;
}

export const noopMetrics: WebchatMetrics = {
  framesAppended() {},
  framesSent() {},
  commitLatencyMs() {},
  commitFailed() {},
  socketDropped() {},
  socketsChanged() {},
  conversationsLoaded() {},
  runStarted() {},
  runEnded() {},
};
