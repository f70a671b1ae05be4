import type { PausePhase } from '../protocol';

/**
 * The client-side state of one conversation: the same entities the server's timeline
 * projection keeps (`/api/timeline`), so a hydrated tab and a tab that saw every frame live hold
 * the same state and render the same transcript.
 */
export interface Entity {
  readonly id: string;
  readonly kind: string;
  readonly firstSeq: number;
  readonly version: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly props: Readonly<Record<string, unknown>>;
}

export interface QueueEntry {
  readonly turnId: string;
  readonly idempotencyKey: string | null;
  readonly prompt: string;
  readonly position: number;
}

export interface RunningInfo {
  readonly inferenceId: string;
  readonly turnId: string;
  readonly startedAtMs: number;
}

/** A tool call an open pause holds: what the operator approves or denies. */
export interface PendingTool {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

export interface OpenPause {
  readonly pauseId: string;
  readonly phase: PausePhase;
  readonly deadlineMs: number;
  readonly toolCallIds: readonly string[];
  /**
   * The held calls, in `toolCallIds` order: from the `debugger.pause` frame live, from the
   * `tool_call` entities after hydration (the snapshot lists only ids). Same either way.
   */
  readonly pendingTools: readonly PendingTool[];
}

export interface ChatState {
  readonly convId: string;
  /** The log incarnation the state belongs to ('' until the server told us). */
  readonly epoch: string;
  /** The seq up to which the state is exact: the last applied frame. */
  readonly version: number;
  readonly entities: Readonly<Record<string, Entity>>;
  /** Entity ids in `firstSeq` order (render order). */
  readonly order: readonly string[];
  readonly running: RunningInfo | null;
  readonly queue: readonly QueueEntry[];
  readonly openPauses: readonly OpenPause[];
  readonly stepMode: boolean;
  /** The turn of the run in progress (assistant messages are tagged with it). */
  readonly currentTurnId: string | null;
}

export function emptyState(convId: string): ChatState {
  return {
    convId,
    epoch: '',
    version: 0,
    entities: {},
    order: [],
    running: null,
    queue: [],
    openPauses: [],
    stepMode: false,
    currentTurnId: null,
  };
}
