import { randomUUID } from 'node:crypto';
import type { EngineBuilder, StartOptions } from './engine-builder';
import { SessionAlreadyActiveError, SessionEmptyTurnError, SessionIdEmptyError } from './errors';
import { ExecutionHandle } from './execution-handle';
import { blocks, cloneTurn, newTurn, type Turn } from './turn';

/**
 * A long-lived multi-turn interaction (MO-007): a list of Turns and at most one active
 * inference. Tools, middleware, sinks, hooks and persistence live in the builder (D4).
 */
export class Session {
  readonly turns: Turn[];
  private active: ExecutionHandle | null = null;

  constructor(readonly sessionId: string, public builder: EngineBuilder, turns: Turn[] = []) {
    if (!sessionId) throw new SessionIdEmptyError();
    this.turns = [...turns];
  }

  latest(): Turn | undefined {
    return this.turns[this.turns.length - 1];
  }

  get activeHandle(): ExecutionHandle | null {
    return this.active;
  }

  get isRunning(): boolean {
    return this.active !== null;
  }

  /** Clones the latest turn's blocks, adds the prompt as a user block, appends it as a new turn. */
  appendNewTurnFromUserPrompt(prompt: string, turnId: string = randomUUID()): Turn {
    if (this.active) throw new SessionAlreadyActiveError();
    const prev = this.latest();
    const base = prev ? cloneTurn(prev) : newTurn();
    const t: Turn = { id: turnId, blocks: base.blocks, metadata: { sessionId: this.sessionId, createdAtMs: Date.now() }, data: base.data };
    if (prompt.length > 0) t.blocks.push(blocks.user(prompt));
    this.turns.push(t);
    return t;
  }

  /**
   * Starts an inference on the latest turn, detached. Rejects (throws) when one is active.
   * When the run ends — naturally or by cancel — its turn replaces the latest one and the slot
   * is free, synchronously.
   */
  startInference(opts: StartOptions = {}): ExecutionHandle {
    if (this.active) throw new SessionAlreadyActiveError();
    const idx = this.turns.length - 1;
    const input = this.turns[idx];
    if (!input || input.blocks.length === 0) throw new SessionEmptyTurnError();
    const runner = this.builder.build(this.sessionId);
    if (this.active) throw new SessionAlreadyActiveError();
    const run = runner.start(input, opts);
    const handle = new ExecutionHandle(run, input);
    this.active = handle;
    run.onSettled((o) => {
      if (this.turns[idx] === input) this.turns[idx] = o.turn;
      if (this.active === handle) this.active = null;
    });
    return handle;
  }

  /** Cancels the active inference, if any. */
  cancelActive(reason: Parameters<ExecutionHandle['cancel']>[0] = 'user_cancel') {
    return this.active ? this.active.cancel(reason) : null;
  }
}
