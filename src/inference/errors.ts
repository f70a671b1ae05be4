import type { RunErrorCode } from '../protocol/errors';

/** Base class of every error the inference core raises on purpose: a stable `code`. */
export class InferenceError extends Error {
  constructor(readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** An error that ends a run: its code is one of `run.end.error.code`. */
export class RunFailure extends InferenceError {
  constructor(override readonly code: RunErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

/** A provider failed (auth, rate limit, overload, bad request, stream, context length). */
export class ProviderError extends RunFailure {
  constructor(
    code: RunErrorCode,
    message: string,
    readonly opts: { status?: number; retryAfterMs?: number | null; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { status: opts.status ?? null });
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
  get retryable(): boolean {
    return this.opts.retryable ?? (this.code === 'provider_rate_limited' || this.code === 'provider_overloaded');
  }
}

export class MaxIterationsError extends RunFailure {
  constructor(readonly maxIterations: number) {
    super('max_iterations', `max iterations (${maxIterations}) reached`, { maxIterations });
  }
}

export class ToolAbortError extends RunFailure {
  constructor(toolName: string, cause: string) {
    super('tool_abort', `tool execution aborted due to error in ${toolName}: ${cause}`, { tool: toolName });
  }
}

export class SessionAlreadyActiveError extends InferenceError {
  constructor() { super('session_already_active', 'session already has an active inference'); }
}
export class SessionEmptyTurnError extends InferenceError {
  constructor() { super('session_empty_turn', 'session has no seed turn (or seed turn is empty)'); }
}
export class SessionIdEmptyError extends InferenceError {
  constructor() { super('session_id_empty', 'session id is empty'); }
}

/** Thrown by engines and tools when their AbortSignal fired. */
export class AbortedError extends InferenceError {
  constructor(message = 'aborted') { super('aborted', message); }
}

export function isAbortError(err: unknown): boolean {
  if (err instanceof AbortedError) return true;
  const e = err as { name?: string; code?: string } | null;
  return !!e && (e.name === 'AbortError' || e.name === 'APIUserAbortError' || e.code === 'ABORT_ERR');
}

/** Maps anything thrown in a run to a run.end error. */
export function toRunError(err: unknown): { code: RunErrorCode; message: string } {
  if (err instanceof RunFailure) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}
