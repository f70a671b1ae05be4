import type { RunEndReason, RunError, RunStatus, Usage } from '../protocol/frames';
import { RunGate } from './run-gate';
import type { EventSink } from './event-sinks';
import type { InferenceEvent, RunIdentity } from './events';
import { blocks, repairPartialTurn, type Block, type Turn } from './turn';

export interface RunOutcome {
  inferenceId: string;
  status: RunStatus;
  reason: RunEndReason;
  error: RunError | null;
  usage: Usage | null;
  /** The final turn (completed) or the repaired partial turn (cancelled / error). */
  turn: Turn;
  runEnd: Extract<InferenceEvent, { type: 'run-end' }>;
}

export type FinishResult = { finished: true; outcome: RunOutcome } | { finished: false; outcome: RunOutcome };

/**
 * One inference: its identity, abort controller, gate and current turn. `finish` is the single
 * place a run ends (natural end, error, cancel): the first call wins, later ones see the outcome.
 */
export class Run {
  readonly controller = new AbortController();
  readonly gate: RunGate;
  private current: Turn;
  private result: RunOutcome | null = null;
  private readonly settledListeners: ((o: RunOutcome) => void)[] = [];
  readonly done: Promise<RunOutcome>;
  private resolveDone!: (o: RunOutcome) => void;

  constructor(readonly identity: RunIdentity, input: Turn, downstream: readonly EventSink[]) {
    this.current = input;
    this.gate = new RunGate(downstream, identity);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get finished(): boolean {
    return this.result !== null;
  }
  get outcome(): RunOutcome | null {
    return this.result;
  }
  get turn(): Turn {
    return this.current;
  }

  /** The loop's latest turn after an engine step or tool batch. */
  setTurn(t: Turn, engineStepReturned = false): void {
    if (this.finished) return;
    this.current = t;
    if (engineStepReturned) this.gate.settleStep();
  }

  onSettled(fn: (o: RunOutcome) => void): void {
    if (this.result) fn(this.result);
    else this.settledListeners.push(fn);
  }

  /**
   * Ends the run (synchronously): aborts the signal, publishes closing events and `run-end`
   * through the gate, repairs the turn unless completed, and notifies listeners.
   */
  finish(status: RunStatus, reason: RunEndReason, error: RunError | null = null): FinishResult {
    if (this.result) return { finished: false, outcome: this.result };
    const runEnd = this.gate.close(status, reason, error)!;
    let turn = this.current;
    if (status !== 'completed') turn = this.repair(turn, status);
    else turn = { ...turn, metadata: { ...turn.metadata, status } };
    turn = { ...turn, metadata: { ...turn.metadata, inferenceId: this.identity.inferenceId, sessionId: this.identity.sessionId, usage: runEnd.usage ?? undefined } };
    this.result = { inferenceId: this.identity.inferenceId, status, reason, error, usage: runEnd.usage, turn, runEnd };
    if (!this.controller.signal.aborted) this.controller.abort(new Error(`run ${status}: ${reason}`));
    for (const fn of this.settledListeners.splice(0)) {
      try {
        fn(this.result);
      } catch {
        /* listeners must not break finishing */
      }
    }
    this.resolveDone(this.result);
    return { finished: true, outcome: this.result };
  }

  /** Adds what the current step streamed (text, tool calls) and answers every open call. */
  private repair(turn: Turn, status: RunStatus): Turn {
    const { messages, toolCalls } = this.gate.unsettled();
    const have = new Set(turn.blocks.map((b) => b.id));
    const extra: Block[] = [];
    for (const m of messages) {
      if (m.thinking && !have.has(`${m.messageId}:thinking`)) extra.push(blocks.reasoning(m.thinking, `${m.messageId}:thinking`));
      if (m.text && !have.has(m.messageId)) extra.push(blocks.llmText(m.text, m.messageId));
    }
    for (const c of toolCalls) if (!have.has(c.id)) extra.push(blocks.toolCall(c.id, c.name, c.input, c.providerCallId));
    const withStreamed = extra.length ? { ...turn, blocks: [...turn.blocks, ...extra] } : turn;
    return repairPartialTurn(withStreamed, status, 'cancelled');
  }
}
