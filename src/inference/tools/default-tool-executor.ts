import { ToolAbortError } from '../errors';
import type { ToolDefinition } from './tool-definition';
import type { ToolCall, ToolConfig, ToolExecutionContext, ToolExecutor, ToolResult } from './tool-executor';
import { serializeToolResult } from './tool-result-json';

/**
 * The default executor (D9).
 *
 * - Lookup (`tool not found: <name>`), `allowedTools` (`tool not allowed: <name>`) and argument
 *   validation (`invalid arguments: <path>: <message>; …`) happen first, for every call; such
 *   calls never start (no `onStart`) and their results are reported at once.
 * - The valid calls run in call order with at most `maxParallelTools` at a time (≤ 1 ⇒ one by
 *   one). `onStart` fires when a call takes its slot; `onResult` fires exactly once for **every**
 *   call (also the ones that failed validation or were cancelled before starting), in completion
 *   order. The returned array is in call order.
 * - Each attempt has its own AbortSignal, fired on timeout, on cancel of the run (`ctx.signal`),
 *   on an `abort`-policy failure of another call, and when the attempt ends. Timeout and cancel
 *   are enforced by racing the tool: a tool that ignores its signal keeps running in the
 *   background, and whatever it returns later is dropped.
 * - Error policy: `continue` (failure = result), `retry` (a thrown error or a timeout is retried
 *   up to `retry.maxRetries` times after `backoffBaseMs * backoffFactor^attempt` ms; lookup,
 *   validation and serialization failures are deterministic and never retried), `abort` (the
 *   first `error`/`timeout` result cancels the other running and unstarted calls; see
 *   {@link abortingFailure}).
 * - Results are made JSON (`serializeToolResult`) and truncated to `maxToolResultBytes`.
 * - Never throws for a tool's failure; an exception thrown by `onStart`/`onResult` is swallowed
 *   (a sink failing must not strand the batch).
 */
export class DefaultToolExecutor implements ToolExecutor {
  async execute(calls: readonly ToolCall[], ctx: ToolExecutionContext): Promise<ToolResult[]> {
    const { config } = ctx;
    const results: (ToolResult | undefined)[] = new Array(calls.length).fill(undefined);
    const finish = (i: number, r: ToolResult): void => {
      if (results[i]) return;
      results[i] = r;
      safeCall(() => ctx.onResult?.(calls[i]!, r));
    };

    // The batch signal: the run's signal, plus an abort-policy failure inside the batch.
    const batch = new AbortController();
    const onRunAbort = () => batch.abort(new BatchCancel('cancelled'));
    if (ctx.signal.aborted) onRunAbort();
    else ctx.signal.addEventListener('abort', onRunAbort, { once: true });
    const failed = (r: ToolResult, call: ToolCall) => {
      if (config.errorPolicy === 'abort' && isFailure(r) && !batch.signal.aborted) {
        batch.abort(new BatchCancel(`cancelled: tool ${call.name} (${call.id}) failed`));
      }
    };

    try {
      // 1. Lookup + validation (no slot needed, never started).
      const prepared: { index: number; tool: ToolDefinition; args: unknown }[] = [];
      for (let i = 0; i < calls.length; i++) {
        const call = calls[i]!;
        if (batch.signal.aborted) {
          finish(i, cancelledResult(call.id, batch.signal));
          continue;
        }
        const prep = await prepare(call, ctx);
        if (prep.ok) {
          prepared.push({ index: i, tool: prep.tool, args: prep.args });
        } else {
          const r = makeResult(call.id, 'error', { error: prep.error });
          finish(i, r);
          failed(r, call);
        }
      }

      // 2. Bounded pool: workers take the next prepared call in call order.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < prepared.length) {
          const { index, tool, args } = prepared[next++]!;
          const call = calls[index]!;
          if (batch.signal.aborted) {
            finish(index, cancelledResult(call.id, batch.signal));
            continue;
          }
          safeCall(() => ctx.onStart?.(call));
          const r = await runWithPolicy(tool, args, call, ctx, batch.signal);
          finish(index, r);
          failed(r, call);
        }
      };
      const width = Math.min(parallelism(config), prepared.length);
      await Promise.all(Array.from({ length: width }, worker));
    } finally {
      ctx.signal.removeEventListener('abort', onRunAbort);
    }
    return results.map((r, i) => r ?? makeResult(calls[i]!.id, 'error', { error: 'no result' }));
  }
}

/**
 * Under the `abort` policy, the failing result that ends the run (the first `error` or
 * `timeout` result in call order), else null. The loop turns it into `tool_abort`.
 */
export function abortingFailure(results: readonly ToolResult[], config: Pick<ToolConfig, 'errorPolicy'>): ToolResult | null {
  if (config.errorPolicy !== 'abort') return null;
  return results.find(isFailure) ?? null;
}

/** {@link abortingFailure} as the run error to throw (`tool_abort`), naming the tool. */
export function toolAbortError(
  calls: readonly ToolCall[],
  results: readonly ToolResult[],
  config: Pick<ToolConfig, 'errorPolicy'>,
): ToolAbortError | null {
  const f = abortingFailure(results, config);
  if (!f) return null;
  const name = calls.find((c) => c.id === f.id)?.name ?? 'tool';
  return new ToolAbortError(name, f.error ?? f.status);
}

/** A result counts as a failure for the error policy when it is `error` or `timeout`. */
export function isFailure(r: ToolResult): boolean {
  return r.status === 'error' || r.status === 'timeout';
}

// ---------------------------------------------------------------------------------------------

class BatchCancel extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

function parallelism(config: ToolConfig): number {
  const n = Math.floor(config.maxParallelTools);
  return Number.isFinite(n) && n > 1 ? n : 1;
}

function makeResult(
  id: string,
  status: ToolResult['status'],
  p: { result?: unknown; error?: string | null; durationMs?: number; truncated?: boolean; retries?: number } = {},
): ToolResult {
  return {
    id,
    status,
    result: p.result ?? null,
    error: p.error ?? null,
    durationMs: p.durationMs ?? 0,
    truncated: p.truncated ?? false,
    retries: p.retries ?? 0,
  };
}

function cancelledResult(id: string, signal: AbortSignal, p: { durationMs?: number; retries?: number } = {}): ToolResult {
  const reason: unknown = signal.reason;
  const error = reason instanceof BatchCancel ? reason.message : 'cancelled';
  return makeResult(id, 'cancelled', { error, ...p });
}

function safeCall(fn: () => void): void {
  try {
    fn();
  } catch {
    // A callback's failure is the caller's problem; the batch goes on.
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name || 'tool failed';
  if (typeof err === 'string') return err || 'tool failed';
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

type Prepared = { ok: true; tool: ToolDefinition; args: unknown } | { ok: false; error: string };

/** Lookup, allow-list and argument validation. */
async function prepare(call: ToolCall, ctx: ToolExecutionContext): Promise<Prepared> {
  const tool = ctx.registry.get(call.name);
  if (!tool) return { ok: false, error: `tool not found: ${call.name}` };
  const allowed = ctx.config.allowedTools;
  if (allowed && !allowed.includes(call.name)) return { ok: false, error: `tool not allowed: ${call.name}` };
  let raw = call.args;
  // Providers stream arguments as JSON text; an empty/absent argument string means "no arguments".
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) raw = {};
  else if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw) as unknown;
    } catch {
      return { ok: false, error: 'invalid arguments: not valid JSON' };
    }
  }
  try {
    const parsed = await tool.schema.safeParseAsync(raw);
    if (parsed.success) return { ok: true, tool, args: parsed.data };
    const issues = parsed.error.issues.map((iss) => {
      const path = iss.path.length > 0 ? iss.path.map(String).join('.') : '(root)';
      return `${path}: ${iss.message}`;
    });
    return { ok: false, error: `invalid arguments: ${issues.join('; ')}` };
  } catch (err) {
    return { ok: false, error: `invalid arguments: ${errorMessage(err)}` };
  }
}

type Outcome =
  | { kind: 'ok'; value: unknown }
  | { kind: 'error'; error: string }
  | { kind: 'timeout'; error: string }
  | { kind: 'cancelled' };

/** One attempt, raced against its timeout and the batch signal. */
function attempt(tool: ToolDefinition, args: unknown, call: ToolCall, ctx: ToolExecutionContext, batch: AbortSignal): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const settle = (o: Outcome, reason: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      batch.removeEventListener('abort', onBatchAbort);
      ac.abort(reason); // the attempt is over either way: tell the tool
      resolve(o);
    };
    const onBatchAbort = () => settle({ kind: 'cancelled' }, batch.reason);
    if (batch.aborted) return onBatchAbort();
    batch.addEventListener('abort', onBatchAbort, { once: true });

    const ms = ctx.config.executionTimeoutMs;
    if (Number.isFinite(ms) && ms > 0) {
      timer = setTimeout(() => {
        const error = `tool timed out after ${ms} ms`;
        settle({ kind: 'timeout', error }, Object.assign(new Error(error), { name: 'TimeoutError' }));
      }, ms);
    }

    let running: Promise<unknown>;
    try {
      running = Promise.resolve(tool.run(args, { signal: ac.signal, toolCallId: call.id, principal: ctx.principal }));
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => settle({ kind: 'ok', value }, new BatchCancel('tool call finished')),
      (err: unknown) => settle({ kind: 'error', error: errorMessage(err) }, new BatchCancel('tool call finished')),
    );
  });
}

/** Abortable sleep; resolves false when the signal fired first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function runWithPolicy(
  tool: ToolDefinition,
  args: unknown,
  call: ToolCall,
  ctx: ToolExecutionContext,
  batch: AbortSignal,
): Promise<ToolResult> {
  const { config } = ctx;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const maxRetries = config.errorPolicy === 'retry' ? Math.max(0, Math.floor(config.retry.maxRetries) || 0) : 0;
  let retries = 0;
  for (;;) {
    const o = await attempt(tool, args, call, ctx, batch);
    if (o.kind === 'cancelled') return cancelledResult(call.id, batch, { durationMs: elapsed(), retries });
    if (o.kind === 'ok') {
      const s = serializeToolResult(o.value, config.maxToolResultBytes);
      if (!s.ok) return makeResult(call.id, 'error', { error: s.error, durationMs: elapsed(), retries });
      return makeResult(call.id, 'completed', { result: s.value, truncated: s.truncated, durationMs: elapsed(), retries });
    }
    if (retries >= maxRetries) return makeResult(call.id, o.kind, { error: o.error, durationMs: elapsed(), retries });
    const { backoffBaseMs, backoffFactor } = config.retry;
    const delay = backoffBaseMs * Math.pow(backoffFactor, retries);
    if (!(await sleep(Number.isFinite(delay) ? delay : 0, batch))) {
      return cancelledResult(call.id, batch, { durationMs: elapsed(), retries });
    }
    retries++;
  }
}
