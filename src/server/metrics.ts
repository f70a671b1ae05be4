import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WebchatMetrics } from '../webchat/webchat-metrics';
import { registerRuntimeHealth } from './runtime-health-metrics';

/**
 * The Prometheus metrics of one server process, on its own registry (never prom-client's global
 * one, so several servers can live in one process, as in tests). Implements the runtime's
 * `WebchatMetrics` sink, so it is passed straight into the chat service factory; the HTTP layer
 * adds `httpRequest`. Knows nothing about Fastify.
 */
export interface Metrics extends WebchatMetrics {
  readonly registry: Registry;
  /** One finished HTTP request; `route` is the route pattern (never the raw URL). */
  httpRequest(method: string, route: string, status: number): void;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Metric name prefix (default `webchat_`). */
  prefix?: string;
  /** Also collect Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const p = opts.prefix ?? 'webchat_';
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });
  registerRuntimeHealth(registry, p);
  const registers = [registry];

  const sockets = new Gauge({ name: `${p}sockets`, help: 'Open WebSocket connections', registers });
  const conversations = new Gauge({ name: `${p}conversations_loaded`, help: 'Conversations loaded in memory', registers });
  const runsActive = new Gauge({ name: `${p}runs_active`, help: 'Inference runs in progress', registers });
  const runsTotal = new Counter({
    name: `${p}runs_total`,
    help: 'Finished inference runs by run.end status',
    labelNames: ['status'] as const,
    registers,
  });
  const framesAppended = new Counter({ name: `${p}frames_appended_total`, help: 'Frames appended to conversation logs', registers });
  const frameBytes = new Counter({ name: `${p}frame_bytes_total`, help: 'Bytes of frame JSON appended to conversation logs', registers });
  const framesSent = new Counter({ name: `${p}frames_sent_total`, help: 'Frames sent to WebSocket clients', registers });
  const commitLatency = new Histogram({
    name: `${p}commit_latency_seconds`,
    help: 'Group-commit transaction latency',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const commitFrames = new Histogram({
    name: `${p}commit_frames`,
    help: 'Frames per group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers,
  });
  const commitFailures = new Counter({ name: `${p}commit_failures_total`, help: 'Failed group commits (retried)', registers });
  const socketDrops = new Counter({
    name: `${p}socket_drops_total`,
    help: 'WebSockets closed by the server, by reason (overflow = 1013, message_too_big = 1009, pong_timeout, ...)',
    labelNames: ['reason'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: `${p}http_requests_total`,
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    httpRequest: (method, route, status) => httpRequests.inc({ method, route, status: String(status) }),
    framesAppended: (n, bytes) => {
      framesAppended.inc(n);
      if (bytes) frameBytes.inc(bytes);
    },
    framesSent: (n) => framesSent.inc(n),
    commitLatencyMs: (ms, frames) => {
      commitLatency.observe(ms / 1000);
      commitFrames.observe(frames);
    },
    commitFailed: () => commitFailures.inc(),
    socketDropped: (reason) => socketDrops.inc({ reason }),
    socketsChanged: (delta) => sockets.inc(delta),
    // Absolute count of loaded conversations (the manager reports its map size).
    conversationsLoaded: (n) => conversations.set(n),
    runStarted: () => runsActive.inc(),
    runEnded: (status) => {
      runsActive.dec();
      runsTotal.inc({ status });
    },
  };
}
