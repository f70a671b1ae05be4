import type { RunEndReason } from '../protocol/frames';
import type { Run, RunOutcome } from './run';
import type { Turn } from './turn';

export type CancelResult =
  | { status: 'cancelled'; outcome: RunOutcome }
  | { status: 'already_finished'; outcome: RunOutcome };

/**
 * One in-flight inference. `cancel()` ends it synchronously — aborts, publishes the closing
 * events and one `run-end cancelled`, repairs the partial turn, fences the inference id and
 * frees the session's slot — and never awaits the runner. Idempotent.
 */
export class ExecutionHandle {
  constructor(private readonly run: Run, readonly input: Turn) {}

  get sessionId(): string {
    return this.run.identity.sessionId;
  }
  get inferenceId(): string {
    return this.run.identity.inferenceId;
  }
  get turnId(): string {
    return this.run.identity.turnId;
  }
  get isRunning(): boolean {
    return !this.run.finished;
  }
  /** The outcome once the run ended, else null. */
  get outcome(): RunOutcome | null {
    return this.run.outcome;
  }

  cancel(reason: RunEndReason = 'user_cancel'): CancelResult {
    const r = this.run.finish('cancelled', reason);
    return r.finished ? { status: 'cancelled', outcome: r.outcome } : { status: 'already_finished', outcome: r.outcome };
  }

  /** Calls `fn` synchronously when the run ends (after the session freed its slot). */
  onSettled(fn: (o: RunOutcome) => void): void {
    this.run.onSettled(fn);
  }

  /** Resolves with the outcome (never rejects). */
  wait(): Promise<RunOutcome> {
    return this.run.done;
  }
}
