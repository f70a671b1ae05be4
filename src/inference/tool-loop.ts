import type { EngineSettings } from './engine';
import { AbortedError, MaxIterationsError, ToolAbortError } from './errors';
import { createEvent } from './events';
import { publishEvent } from './event-sinks';
import type { LoopHookContext, LoopHookDecision, LoopHooks, SnapshotHook } from './loop-hooks';
import type { Handler } from './middleware';
import type { Run } from './run';
import { blocks, type ToolCallBlock, type Turn } from './turn';
import type { ToolCall, ToolConfig, ToolExecutor, ToolResult } from './tools/tool-executor';
import type { ToolRegistry } from './tools/tool-registry';

export interface ToolLoopOptions {
  handler: Handler;
  registry: ToolRegistry;
  executor: ToolExecutor;
  toolConfig: ToolConfig;
  settings: EngineSettings;
  hooks: LoopHooks;
  snapshotHook?: SnapshotHook;
  /** Tool names whose calls need approval before any call of their batch runs. */
  approvalRequired: ReadonlySet<string>;
  maxIterations: number;
  principal: string | null;
}

/** Thrown when a hook decided `abort` (the run ends cancelled / `pause_abort`). */
export class PauseAbortError extends AbortedError {
  constructor() {
    super('aborted at a pause');
  }
}

function checkOpen(run: Run): void {
  if (run.finished || run.signal.aborted) throw new AbortedError();
}

function toCall(b: ToolCallBlock): ToolCall {
  return { id: b.id, name: b.name, args: b.args, providerCallId: b.providerCallId };
}

/**
 * The tool-calling loop: engine step → no calls pending in this iteration: done → approval hook
 * (if a pending call needs it) → after_inference hook → execute → tool_use blocks → after_tools
 * hook, up to `maxIterations` (then `max_iterations`). Returns the final turn; throws on failure.
 */
export async function runToolLoop(run: Run, input: Turn, o: ToolLoopOptions): Promise<Turn> {
  let t = input;
  const id = run.identity;
  const tools = o.toolConfig.enabled && o.toolConfig.toolChoice !== 'none' ? o.registry.filter(o.toolConfig.allowedTools).list() : [];
  const snapshot = async (phase: Parameters<SnapshotHook>[0], turn: Turn) => {
    if (o.snapshotHook && !run.finished) await o.snapshotHook(phase, turn, id);
  };

  for (let iteration = 0; iteration < o.maxIterations; iteration++) {
    checkOpen(run);
    await snapshot('pre_inference', t);
    checkOpen(run);
    const before = new Set(t.blocks.filter((b) => b.kind === 'tool_call').map((b) => b.id));
    t = await o.handler(t, { signal: run.signal, run: id, tools, settings: o.settings });
    checkOpen(run);
    run.setTurn(t, true);
    await snapshot('post_inference', t);
    checkOpen(run);

    const answered = new Set(t.blocks.filter((b) => b.kind === 'tool_use').map((b) => b.id));
    const pending = t.blocks
      .filter((b): b is ToolCallBlock => b.kind === 'tool_call' && !before.has(b.id) && !answered.has(b.id))
      .map(toCall);
    if (pending.length === 0) return t;

    // Pauses before any tool runs: approval (if needed), then after_inference (step mode).
    const denied = new Map<string, string>();
    const approvalCalls = pending.filter((c) => o.approvalRequired.has(c.name));
    const ctxBase: Omit<LoopHookContext, 'phase'> = {
      run: id, iteration, turn: t, pendingCalls: pending, approvalCalls, results: [], approvalHandled: false, signal: run.signal,
    };
    if (approvalCalls.length > 0 && o.hooks.approval) {
      applyDecision(await o.hooks.approval({ ...ctxBase, phase: 'approval' }), pending, denied, 'denied by operator');
      ctxBase.approvalHandled = true;
      checkOpen(run);
    }
    if (o.hooks.afterInference) {
      applyDecision(await o.hooks.afterInference({ ...ctxBase, phase: 'after_inference' }), pending, denied, 'denied by operator');
      checkOpen(run);
    }

    const results = await executeBatch(run, pending, denied, o);
    checkOpen(run);
    t = { ...t, blocks: [...t.blocks, ...results.map((r) => blocks.toolUse(r.id, r.status, r.result, r.error, r.truncated))] };
    run.setTurn(t);
    if (o.toolConfig.errorPolicy === 'abort') {
      const failed = results.find((r) => r.status === 'error' || r.status === 'timeout');
      if (failed) throw new ToolAbortError(pending.find((c) => c.id === failed.id)?.name ?? 'tool', failed.error ?? failed.status);
    }
    await snapshot('post_tools', t);
    checkOpen(run);
    if (o.hooks.afterTools) {
      applyDecision(await o.hooks.afterTools({ ...ctxBase, turn: t, results, phase: 'after_tools' }), [], denied, '');
      checkOpen(run);
    }
  }
  throw new MaxIterationsError(o.maxIterations);
}

function applyDecision(d: LoopHookDecision | void, pending: ToolCall[], denied: Map<string, string>, why: string): void {
  if (!d || d.action === 'continue') return;
  if (d.action === 'abort') throw new PauseAbortError();
  const ids = d.toolCallIds && d.toolCallIds.length > 0 ? new Set(d.toolCallIds) : new Set(pending.map((c) => c.id));
  for (const c of pending) if (ids.has(c.id)) denied.set(c.id, d.reason ?? why);
}

/** Runs the allowed calls through the executor, denies the rest; publishes every result once. */
async function executeBatch(run: Run, pending: ToolCall[], denied: Map<string, string>, o: ToolLoopOptions): Promise<ToolResult[]> {
  const id = run.identity;
  const published = new Set<string>();
  const publishResult = (r: ToolResult) => {
    if (published.has(r.id)) return;
    published.add(r.id);
    publishEvent(createEvent('tool-call-execution-result', id, { result: r }));
    publishEvent(createEvent('tool-call-done', id, { toolCallId: r.id }));
  };
  const byId = new Map<string, ToolResult>();
  for (const c of pending) {
    const reason = denied.get(c.id);
    if (reason === undefined) continue;
    const r: ToolResult = { id: c.id, status: 'denied', result: null, error: reason, durationMs: 0, truncated: false, retries: 0 };
    byId.set(c.id, r);
    publishResult(r);
  }
  const toRun = pending.filter((c) => !denied.has(c.id));
  if (toRun.length > 0) {
    const results = await o.executor.execute(toRun, {
      registry: o.registry,
      config: o.toolConfig,
      signal: run.signal,
      principal: o.principal,
      onStart: (c) => publishEvent(createEvent('tool-call-execute', id, { toolCall: { id: c.id, name: c.name, input: c.args } })),
      onResult: (_c, r) => publishResult(r),
    });
    results.forEach((r) => {
      byId.set(r.id, r);
      publishResult(r);
    });
  }
  return pending.map((c) => byId.get(c.id) ?? { id: c.id, status: 'error', result: null, error: 'no result returned', durationMs: 0, truncated: false, retries: 0 });
}
