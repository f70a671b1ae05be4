import type { Turn } from './turn';
import type { RunIdentity } from './events';
import type { ToolCall, ToolResult } from './tools/tool-executor';

export type LoopPhase = 'approval' | 'after_inference' | 'after_tools';

export interface LoopHookContext {
  phase: LoopPhase;
  run: RunIdentity;
  iteration: number;
  turn: Turn;
  /** Calls proposed in this iteration that have not run (after_inference / approval). */
  pendingCalls: ToolCall[];
  /** Calls that need approval (approval phase). */
  approvalCalls: ToolCall[];
  /** Results of this iteration (after_tools). */
  results: ToolResult[];
  /** True when an approval pause already happened in this iteration (step mode merges it). */
  approvalHandled: boolean;
  signal: AbortSignal;
}

/** What a hook decides: go on, deny some (or all) pending calls, or abort the run. */
export type LoopHookDecision =
  | { action: 'continue' }
  | { action: 'deny'; toolCallIds?: readonly string[]; reason?: string }
  | { action: 'abort' };

export type LoopHook = (ctx: LoopHookContext) => Promise<LoopHookDecision | void> | LoopHookDecision | void;

/** Named phases of the tool loop (D9). */
export interface LoopHooks {
  /** Before any call of a batch runs, when one of them requires approval. */
  approval?: LoopHook;
  /** After the model proposed tool calls (step mode). */
  afterInference?: LoopHook;
  /** After the tools ran. */
  afterTools?: LoopHook;
  /** After the run completed (not on cancel/error). */
  final?: (ctx: { run: RunIdentity; turn: Turn }) => Promise<void> | void;
}

/** Snapshot phases (turn snapshots per phase). */
export type SnapshotPhase = 'pre_inference' | 'post_inference' | 'post_tools' | 'final';
export type SnapshotHook = (phase: SnapshotPhase, turn: Turn, run: RunIdentity) => void | Promise<void>;

/** Persists the run's final (or repaired partial) turn. */
export interface TurnPersister {
  persistTurn(sessionId: string, turn: Turn, run: RunIdentity): void | Promise<void>;
}
