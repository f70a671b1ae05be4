import { randomUUID } from 'node:crypto';
import type { ExecutionHandle } from '../inference/execution-handle';
import type { RunOutcome } from '../inference/run';
import { Session } from '../inference/session';
import type { Turn } from '../inference/turn';
import { CLOSE_CODES } from '../protocol/errors';
import type { RunEndReason } from '../protocol/frames';
import type { CancelResponse, ChatResponse, ConversationState } from '../protocol/http';
import { entityIds } from '../protocol/ids';
import type { PromptOutcome, WsLike } from './chat-service';
import type { ConversationLog } from './conversation-log';
import type { GroupCommitter } from './group-committer';
import { buildRunBuilder, type ToolCatalog } from './run-builder';
import { runtimeFingerprint, type PromptRuntime } from './runtime-profile';
import type { ConversationRow, Store, TurnSnapshot } from './store/store';
import { idemScope, PromptQueue, type QueuedPrompt } from './prompt-queue';
import { StepController } from './step-controller';
import { StreamCoordinator } from './stream-coordinator';
import { titleFromPrompt } from './title';
import type { Translator } from './translator';
import { assertStoreWritable, WebchatError } from './webchat-error';
import type { WebchatMetrics } from './webchat-metrics';
import type { ToolLoopEngineBuilder } from '../inference/engine-builder';
import type { LoopHooks } from '../inference/loop-hooks';

export interface ConversationDeps {
  store: Store;
  committer: GroupCommitter;
  metrics: WebchatMetrics;
  translator: Translator;
  catalog: ToolCatalog;
  limits: { queueDepth: number; sendLimitBytes: number; maxToolResultBytes: number };
  /** Operator log (pino-compatible); the runtime logs failed runs and dropped prompts. */
  logger?: RuntimeLogger;
  /** Loop hooks of a run (step controller); null = none. */
  hooksFor?: (conv: Conversation, rt: PromptRuntime) => LoopHooks;
}

export interface RuntimeLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

interface ActiveRun {
  handle: ExecutionHandle;
  inferenceId: string;
  turnId: string;
  startedAtMs: number;
  idem: { principal: string; key: string } | null;
}

export interface SubmitRequest {
  prompt: string;
  runtime: PromptRuntime;
  idempotencyKey: string | null;
  principal: string | null;
}


/**
 * One conversation: its Session (turns, one active inference), log, projection, sockets and the
 * prompt queue (D7). Every observable change is a frame appended to the log (D1).
 */
export class Conversation {
  readonly convId: string;
  readonly session: Session;
  readonly coordinator: StreamCoordinator;
  readonly steps: StepController;
  private active: ActiveRun | null = null;
  private readonly queue: PromptQueue;
  private builder: { fingerprint: string; builder: ToolLoopEngineBuilder } | null = null;
  private suppressDrain = false;
  /** Set by stopActive (shutdown, delete): no queued prompt starts in this process any more. */
  private halted = false;
  deleted = false;
  /** Turn snapshots pushed into a batch that has not committed yet. */
  private snapshotsPending = 0;
  /** When this process loaded (or created) it: a conversation just loaded is not idle yet. */
  private readonly loadedAtMs = Date.now();

  constructor(
    readonly row: ConversationRow,
    readonly log: ConversationLog,
    turns: Turn[],
    queue: QueuedPrompt[],
    private readonly d: ConversationDeps,
  ) {
    this.convId = row.convId;
    this.queue = new PromptQueue(row.convId, log, d.committer, queue);
    const placeholder = { build: () => { throw new Error('no runtime yet'); } };
    this.session = new Session(row.convId, placeholder, turns);
    this.coordinator = new StreamCoordinator(log, d.metrics);
    this.steps = new StepController(
      {
        stepMode: () => this.row.stepMode,
        cancelRun: (inferenceId) => {
          if (this.active?.inferenceId === inferenceId) this.active.handle.cancel('pause_abort');
        },
      },
      { stepTimeoutMs: 30_000, approvalTimeoutMs: 120_000 },
    );
  }

  get running(): ActiveRun | null {
    return this.active;
  }
  get queued(): readonly QueuedPrompt[] {
    return this.queue.all;
  }
  get socketCount(): number {
    return this.coordinator.socketCount;
  }

  private assertAlive(): void {
    if (this.deleted) throw new WebchatError('conversation_deleted', `conversation ${this.convId} was deleted`);
  }

  /** Accepts a prompt under the busy policy: start now (200), queue (202), reject (409), interrupt. */
  async submit(req: SubmitRequest): Promise<PromptOutcome> {
    this.assertAlive();
    assertStoreWritable(this.d.committer);
    const policy = req.runtime.overrides?.busy_policy ?? req.runtime.profile.busyPolicy;
    if (req.runtime.overrides?.step_mode !== undefined) this.setStepMode(req.runtime.overrides.step_mode);
    const item: QueuedPrompt = {
      turnId: randomUUID(), prompt: req.prompt, runtime: req.runtime, idempotencyKey: req.idempotencyKey,
      principal: req.principal, orderKey: 0, acceptedAtMs: Date.now(),
    };
    if (this.active) {
      if (policy === 'reject') {
        throw new WebchatError('conversation_busy', 'a run is active and the busy policy is reject', { inference_id: this.active.inferenceId });
      }
      if (policy === 'interrupt') {
        this.suppressDrain = true;
        try {
          this.active.handle.cancel('superseded');
        } finally {
          this.suppressDrain = false;
        }
      } else {
        if (this.queue.length >= this.d.limits.queueDepth) {
          throw new WebchatError('queue_full', `the queue is full (${this.d.limits.queueDepth})`, { queue_depth: this.queue.length });
        }
        return this.enqueue(item);
      }
    }
    const started = this.start(item, false);
    await this.log.waitCommitted(started.seq);
    return { httpStatus: 200, body: this.startedBody(item, started.inferenceId, started.seq) };
  }

  private startedBody(item: { turnId: string; idempotencyKey: string | null; runtime: PromptRuntime }, inferenceId: string, seq: number): ChatResponse {
    return {
      status: 'started', conv_id: this.convId, session_id: this.convId, inference_id: inferenceId, turn_id: item.turnId,
      idempotency_key: item.idempotencyKey, runtime_key: item.runtime.profile.slug, seq,
    };
  }

  private async enqueue(item: QueuedPrompt): Promise<PromptOutcome> {
    const seq = this.queue.push(item);
    await this.log.waitCommitted(seq);
    return { httpStatus: 202, body: this.queuedBody(item, seq) };
  }

  private queuedBody(item: QueuedPrompt, seq: number): ChatResponse {
    return {
      status: 'queued', conv_id: this.convId, session_id: this.convId, turn_id: item.turnId, idempotency_key: item.idempotencyKey,
      runtime_key: item.runtime.profile.slug, queue_position: this.queue.position(item), queue_depth: this.queue.length, seq,
    };
  }

  /**
   * Starts a prompt now (synchronously): `run.queued started` (from the queue), `chat.message`,
   * then the runner's `run.start`. A start failure never leaves the conversation busy.
   */
  private start(item: QueuedPrompt, fromQueue: boolean): { seq: number; inferenceId: string } {
    // Build first: a profile that cannot run (e.g. its key variable is unset) changes nothing.
    let builder: ToolLoopEngineBuilder;
    try {
      builder = this.builderFor(item.runtime, item.principal);
    } catch (err) {
      throw new WebchatError('internal', `could not start the run on profile "${item.runtime.profile.slug}": ${(err as Error).message}`);
    }
    if (fromQueue) this.queue.markStarted(item);
    else this.queue.recordIdempotency(item);
    if (!this.row.title) this.row.title = titleFromPrompt(item.prompt);
    this.row.runtimeKey = item.runtime.profile.slug;
    this.row.busyPolicy = item.runtime.profile.busyPolicy;
    const seq = this.log.append({
      type: 'chat.message', id: entityIds.userMessage(item.turnId), metadata: null, inferenceId: null,
      data: { schemaVersion: 1, role: 'user', content: item.prompt, turnId: item.turnId },
    })!;
    const inferenceId = randomUUID();
    this.steps.setSettings({ stepTimeoutMs: item.runtime.profile.stepTimeoutMs, approvalTimeoutMs: item.runtime.profile.approvalTimeoutMs });
    this.session.builder = builder;
    this.session.appendNewTurnFromUserPrompt(item.prompt, item.turnId);
    const handle = this.session.startInference({ inferenceId }); // emits run.start synchronously
    this.active = {
      handle, inferenceId, turnId: item.turnId, startedAtMs: Date.now(),
      idem: item.idempotencyKey ? { principal: idemScope(item.principal), key: item.idempotencyKey } : null,
    };
    this.d.metrics.runStarted();
    handle.onSettled((o) => this.onRunSettled(o));
    return { seq, inferenceId };
  }

  private builderFor(rt: PromptRuntime, principal: string | null): ToolLoopEngineBuilder {
    const fingerprint = runtimeFingerprint(rt);
    if (this.builder?.fingerprint === fingerprint) return this.builder.builder;
    // Error codes an engine already logged, per inference (provider engines log their final error).
    const engineLogged = new Map<string, Set<string>>();
    const builder = buildRunBuilder(rt, {
      catalog: this.d.catalog,
      sink: { publish: (e) => {
        if (e.type === 'log' && e.level === 'error' && typeof e.fields?.code === 'string') {
          engineLogged.set(e.meta.inferenceId, (engineLogged.get(e.meta.inferenceId) ?? new Set()).add(e.fields.code));
        }
        // a run error is also a `log` frame, before its run.end (protocol.md: errors are visible as run.end error + log),
        // unless the engine already logged that very error: one log line per failure
        if (e.type === 'run-end') {
          const logged = !!e.error && !!engineLogged.get(e.meta.inferenceId)?.has(e.error.code);
          engineLogged.delete(e.meta.inferenceId);
          if (e.error && !logged) {
            const id = `log-${randomUUID()}`;
            this.log.append({ type: 'log', id, metadata: null, inferenceId: e.meta.inferenceId, data: { id, level: 'error', message: e.error.message, fields: { code: e.error.code } } });
          }
        }
        const spec = this.d.translator.translate(e, { convId: this.convId, runtimeKey: this.row.runtimeKey }); if (spec) this.log.append(spec);
      } },
      snapshotHook: (phase, turn, run) => this.saveSnapshot(phase, turn, run.inferenceId),
      hooks: this.d.hooksFor ? this.d.hooksFor(this, rt) : this.steps.hooks(),
      principal,
      maxToolResultBytes: this.d.limits.maxToolResultBytes,
    });
    this.builder = { fingerprint, builder };
    return builder;
  }

  /**
   * Saves the turn at a step boundary. The snapshot joins the group-commit batch being filled
   * (committed in one transaction with the frames appended so far, retried with them until the
   * store takes it), so a store that fails for a while never fails the run: the run ends as it
   * really ended and its turn is stored once the store is back. The run does not wait for the
   * write (like frames); it is copied now, so later changes to the turn do not leak into it. A
   * conversation is not unloaded while a snapshot is uncommitted (`evictable`).
   */
  saveSnapshot(phase: TurnSnapshot['phase'], turn: Turn, inferenceId: string | null): Promise<void> {
    if (this.deleted) return Promise.resolve();
    this.d.committer.batch.turnSnapshots.push({
      convId: this.convId, turnId: turn.id, phase, inferenceId, status: (turn.metadata.status as string | undefined) ?? null,
      createdAtMs: Date.now(), blocks: [...turn.blocks], metadata: { ...(turn.metadata as Record<string, unknown>) },
    });
    this.snapshotsPending++;
    void this.d.committer.whenCommitted().then(() => this.snapshotsPending--);
    this.d.committer.touch(this.log);
    return Promise.resolve();
  }

  private onRunSettled(o: RunOutcome): void {
    const a = this.active;
    if (!a || a.inferenceId !== o.inferenceId) return;
    this.active = null;
    if (a.idem) this.queue.markIdemEnded(a.idem.principal, a.idem.key);
    this.d.metrics.runEnded(o.status);
    if (o.status === 'error') {
      this.d.logger?.warn({ convId: this.convId, inferenceId: o.inferenceId, code: o.error?.code, message: o.error?.message }, 'run failed');
    } else {
      this.d.logger?.debug?.({ convId: this.convId, inferenceId: o.inferenceId, status: o.status, reason: o.reason }, 'run ended');
    }
    if (!this.suppressDrain) this.drain();
  }

  /** Starts queued prompts in order while the slot is free. */
  drain(): void {
    while (!this.active && !this.deleted && !this.halted && this.queue.length > 0) {
      const next = this.queue.shift()!;
      try {
        this.start(next, true);
      } catch (err) {
        // the prompt cannot run (its profile cannot start): drop it visibly, never stay busy
        this.queue.markDropped(next, 'start_failed');
        const id = `log-${randomUUID()}`;
        this.log.append({ type: 'log', id, metadata: null, inferenceId: null, data: { id, level: 'error', message: (err as Error).message, fields: { turnId: next.turnId } } });
        this.d.logger?.warn({ convId: this.convId, turnId: next.turnId, err: (err as Error).message }, 'queued prompt dropped: its run could not start');
      }
    }
  }

  /** Stops the active run (D6). Never awaits the runner. */
  async cancel(inferenceId: string | null, clearQueue: boolean): Promise<CancelResponse> {
    this.assertAlive();
    if (clearQueue) this.dropQueue('cleared');
    const a = this.active;
    if (a && (!inferenceId || inferenceId === a.inferenceId)) {
      a.handle.cancel('user_cancel');
    } else if (!inferenceId) {
      return { status: 'not_running' };
    }
    const id = inferenceId ?? a!.inferenceId;
    const run = this.log.runState(id);
    if (!run) throw new WebchatError('stale_inference', `inference ${id} is not the active one`, { inference_id: id, active_inference_id: this.active?.inferenceId ?? null });
    if (run.status === 'open') return { status: 'not_running' };
    if (run.status === 'cancelled' && run.reason === 'user_cancel' && run.endSeq !== null) {
      await this.log.waitCommitted(run.endSeq);
      return { status: 'cancelled', inference_id: id, seq: run.endSeq };
    }
    return { status: 'already_finished', inference_id: id, run_status: run.status };
  }

  dropQueue(reason: string): void {
    this.queue.dropAll(reason);
  }

  /** Cancels the active run with `reason` (delete, shutdown, interrupt). */
  stopActive(reason: RunEndReason): void {
    // the stored queue stays queued: on shutdown it drains after the restart (runtime.md "Queue")
    this.halted = true;
    this.active?.handle.cancel(reason);
  }

  setStepMode(enabled: boolean): number | null {
    this.assertAlive();
    if (this.row.stepMode === enabled) return null;
    this.row.stepMode = enabled;
    const seq = this.log.append({ type: 'step.mode', id: entityIds.stepMode(this.convId), metadata: null, inferenceId: null, data: { enabled } });
    if (!enabled) this.steps.releaseStepPauses();
    return seq;
  }

  /** Delete: one `run.end deleted`, queue dropped, nothing appended afterwards, sockets 4404. */
  async delete(): Promise<void> {
    this.deleted = true;
    this.suppressDrain = true;
    this.dropQueue('deleted');
    this.stopActive('deleted');
    await this.d.committer.flush();
    this.log.seal();
    await this.d.store.deleteConversation(this.convId, Date.now());
    this.coordinator.closeAll(CLOSE_CODES.deleted, 'conversation deleted');
  }

  /** Replays the current state of an accepted prompt (idempotency). */
  replayState(turnId: string, idempotencyKey: string | null): PromptOutcome {
    const q = this.queue.find(turnId);
    if (q) return { httpStatus: 202, body: this.queuedBody(q, q.orderKey) };
    const run = this.log.knownRuns().find((r) => r.turnId === turnId);
    const msg = this.log.projection.snapshotEntity(entityIds.userMessage(turnId));
    const runtimeKey = this.row.runtimeKey;
    if (run && msg) {
      return { httpStatus: 200, body: { status: 'started', conv_id: this.convId, session_id: this.convId, inference_id: run.inferenceId, turn_id: turnId, idempotency_key: idempotencyKey, runtime_key: runtimeKey, seq: msg.firstSeq } };
    }
    return { httpStatus: 202, body: { status: 'queued', conv_id: this.convId, session_id: this.convId, turn_id: turnId, idempotency_key: idempotencyKey, runtime_key: runtimeKey, queue_position: 0, queue_depth: this.queue.length, seq: 0 } };
  }

  attach(ws: WsLike, since: number | null, epoch: string | null) {
    return this.coordinator.attach(ws, { since, epoch, runtimeKey: this.row.runtimeKey, sendLimitBytes: this.d.limits.sendLimitBytes });
  }

  /** A socket that waited for this conversation to be created (see WaitingSockets). */
  adoptWaiting(ws: WsLike): void {
    this.coordinator.adopt(ws, this.d.limits.sendLimitBytes);
  }

  state(): ConversationState {
    const v = this.log.projection.conversation;
    return {
      conv_id: this.convId, title: this.row.title, created_at_ms: this.row.createdAtMs, last_activity_ms: this.log.lastActivityMs,
      runtime_key: this.row.runtimeKey, busy_policy: this.row.busyPolicy,
      // running/queue/pauses from the projection, exact at last_seq: never ahead of the committed log (D2)
      running: v.running ? { inference_id: v.running.inferenceId, turn_id: v.running.turnId, started_at_ms: v.running.startedAtMs } : null,
      queue: v.queue.map((q, i) => ({ turn_id: q.turnId, idempotency_key: q.idempotencyKey, position: i + 1, prompt: q.prompt })),
      step_mode: this.row.stepMode,
      open_pauses: v.openPauses.map((p) => ({ pause_id: p.pauseId, phase: p.phase, deadline_ms: p.deadlineMs, tool_call_ids: p.toolCallIds })),
      last_seq: this.log.lastSeq, epoch: this.log.epoch,
    };
  }

  /** Nothing would be lost by unloading it now. */
  evictable(idleMs: number, now: number): boolean {
    return !this.active && this.queue.length === 0 && this.coordinator.socketCount === 0 && this.log.idle && this.snapshotsPending === 0
      && this.log.projection.conversation.openPauses.length === 0 && now - Math.max(this.log.lastActivityMs, this.loadedAtMs) >= idleMs;
  }
}
