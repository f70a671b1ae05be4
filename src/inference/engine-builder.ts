import { randomUUID } from 'node:crypto';
import type { Engine, EngineSettings } from './engine';
import { isAbortError, toRunError } from './errors';
import { createEvent, type RunIdentity } from './events';
import { currentSinks, withOnlyEventSinks, type EventSink } from './event-sinks';
import type { LoopHooks, SnapshotHook, TurnPersister } from './loop-hooks';
import { compose, type Middleware } from './middleware';
import { Run } from './run';
import { PauseAbortError, runToolLoop } from './tool-loop';
import type { Turn } from './turn';
import { DefaultToolExecutor } from './tools/default-tool-executor';
import { DEFAULT_TOOL_CONFIG, type ToolConfig, type ToolExecutor } from './tools/tool-executor';
import { ToolRegistry } from './tools/tool-registry';

export interface StartOptions {
  inferenceId?: string;
}

/** Runs one inference of a session. */
export interface InferenceRunner {
  /** Starts the run detached and returns it at once (used by Session / ExecutionHandle). */
  start(input: Turn, opts?: StartOptions): Run;
  /** Blocking form: the run's outcome. */
  runInference(input: Turn, opts?: StartOptions): Promise<import('./run').RunOutcome>;
}

export interface EngineBuilder {
  build(sessionId: string): InferenceRunner;
}

export interface ToolLoopEngineBuilderConfig {
  engine: Engine;
  /** First listed is outermost (D8). */
  middlewares?: readonly Middleware[];
  registry?: ToolRegistry;
  toolConfig?: Partial<ToolConfig>;
  executor?: ToolExecutor;
  hooks?: LoopHooks;
  sinks?: readonly EventSink[];
  snapshotHook?: SnapshotHook;
  persister?: TurnPersister;
  settings?: EngineSettings;
  /** Tool names that require approval before their batch runs. */
  approvalRequired?: readonly string[];
  maxIterations?: number;
  principal?: string | null;
}

export const DEFAULT_MAX_ITERATIONS = 5;

/**
 * The standard builder (MO-007): engine + middlewares + tools + executor + hooks + sinks +
 * snapshot hook + persister. Its runner emits `run-start`, runs the tool loop, and ends every
 * run with exactly one `run-end` (D5).
 */
export class ToolLoopEngineBuilder implements EngineBuilder {
  constructor(readonly config: ToolLoopEngineBuilderConfig) {}

  build(sessionId: string): InferenceRunner {
    return new ToolLoopRunner(sessionId, this.config);
  }
}

class ToolLoopRunner implements InferenceRunner {
  private readonly toolConfig: ToolConfig;
  private readonly registry: ToolRegistry;
  private readonly executor: ToolExecutor;

  constructor(private readonly sessionId: string, private readonly cfg: ToolLoopEngineBuilderConfig) {
    this.toolConfig = { ...DEFAULT_TOOL_CONFIG, ...cfg.toolConfig };
    this.registry = cfg.registry ?? new ToolRegistry();
    this.executor = cfg.executor ?? new DefaultToolExecutor();
  }

  runInference(input: Turn, opts: StartOptions = {}) {
    return this.start(input, opts).done;
  }

  start(input: Turn, opts: StartOptions = {}): Run {
    const identity: RunIdentity = { sessionId: this.sessionId, inferenceId: opts.inferenceId ?? randomUUID(), turnId: input.id };
    const turn: Turn = { ...input, metadata: { ...input.metadata, sessionId: this.sessionId, inferenceId: identity.inferenceId } };
    const run = new Run(identity, turn, [...currentSinks(), ...(this.cfg.sinks ?? [])]);
    run.onSettled((o) => this.afterSettled(o.turn, identity));
    withOnlyEventSinks([run.gate], () => {
      run.gate.publish(createEvent('run-start', identity, {}));
      void this.drive(run, turn);
    });
    return run;
  }

  private async drive(run: Run, input: Turn): Promise<void> {
    const cfg = this.cfg;
    try {
      const handler = compose(cfg.middlewares ?? [], (t, o) => cfg.engine.runInference(t, o));
      const out = await runToolLoop(run, input, {
        handler,
        registry: this.registry,
        executor: this.executor,
        toolConfig: this.toolConfig,
        settings: { toolChoice: this.toolConfig.toolChoice, parallelToolCalls: this.toolConfig.maxParallelTools > 1, ...cfg.settings },
        hooks: cfg.hooks ?? {},
        snapshotHook: cfg.snapshotHook,
        approvalRequired: new Set(cfg.approvalRequired ?? []),
        maxIterations: cfg.maxIterations ?? DEFAULT_MAX_ITERATIONS,
        principal: cfg.principal ?? null,
      });
      if (run.finished) return;
      run.setTurn(out);
      await cfg.hooks?.final?.({ run: run.identity, turn: out });
      run.finish('completed', 'completed');
    } catch (err) {
      if (run.finished) return;
      if (err instanceof PauseAbortError) run.finish('cancelled', 'pause_abort');
      else if (isAbortError(err) || run.signal.aborted) run.finish('cancelled', 'user_cancel');
      else run.finish('error', 'error', toRunError(err));
    }
  }

  private afterSettled(turn: Turn, identity: RunIdentity): void {
    const { snapshotHook, persister } = this.cfg;
    void (async () => {
      try {
        if (snapshotHook) await snapshotHook('final', turn, identity);
        if (persister) await persister.persistTurn(this.sessionId, turn, identity);
      } catch {
        /* persistence failures are the persister's to report */
      }
    })();
  }
}
