import { performance } from 'node:perf_hooks';
import type { EngineCallOptions } from '../engine';
import type { Middleware } from '../middleware';
import type { Turn } from '../turn';

export interface LogEntry {
  phase: 'request' | 'response' | 'error';
  /** Blocks in the turn: the request's for `request` and `error`, the returned turn's for `response`. */
  blocks: number;
  /** Milliseconds the inner call took (`response`, `error`). */
  durationMs?: number;
  /** The error's message (`error`). */
  error?: string;
}

/** What the entry is about, for loggers that want more than the entry (e.g. the run identity). */
export interface LogContext {
  turn: Turn;
  opts: EngineCallOptions;
}

export type LogFn = (entry: LogEntry, ctx: LogContext) => void;

function safe(log: LogFn, entry: LogEntry, ctx: LogContext): void {
  try {
    log(entry, ctx);
  } catch {
    /* a logger's failure never changes the inference */
  }
}

/**
 * Reports each inner call: `request` before it, then `response` (with the returned turn's block
 * count) or `error` (the error is rethrown unchanged). A throwing logger is ignored.
 */
export function loggingMiddleware(log: LogFn): Middleware {
  return (next) => async (turn, opts) => {
    safe(log, { phase: 'request', blocks: turn.blocks.length }, { turn, opts });
    const t0 = performance.now();
    let result: Turn;
    try {
      result = await next(turn, opts);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      safe(log, { phase: 'error', blocks: turn.blocks.length, durationMs: performance.now() - t0, error }, { turn, opts });
      throw err;
    }
    safe(log, { phase: 'response', blocks: result.blocks.length, durationMs: performance.now() - t0 }, { turn: result, opts });
    return result;
  };
}
