import { randomUUID } from 'node:crypto';
import { currentSinks, type EventSink } from '../inference/event-sinks';
import { createEvent, type RunIdentity } from '../inference/events';
import type { LoopHookContext, LoopHookDecision, LoopHooks } from '../inference/loop-hooks';
import type { PauseEffect, PausePhase, PauseResolution } from '../protocol/frames';
import type { PauseAction } from '../protocol/http';
import { WebchatError } from './webchat-error';

export interface StepSettings {
  stepTimeoutMs: number;
  approvalTimeoutMs: number;
}

export interface OpenPauseInfo {
  pauseId: string;
  phase: PausePhase;
  inferenceId: string;
  deadlineMs: number;
  toolCallIds: string[];
}

interface PauseRecord extends OpenPauseInfo {
  sinks: readonly EventSink[];
  run: RunIdentity;
  settle: (d: LoopHookDecision) => void;
  timer: NodeJS.Timeout;
  resolved: boolean;
}

export interface StepControllerDeps {
  /** Whether step mode is on right now (read at every phase, so toggling applies to the next one). */
  stepMode: () => boolean;
  /** Cancels the run (pause `abort`): the same path as Stop, reason `pause_abort`. */
  cancelRun: (inferenceId: string) => void;
}

const STEP_PHASES: PausePhase[] = ['after_inference', 'after_tools'];

/**
 * Step mode and tool approval (D10) for one conversation. A pause is a `debugger.pause` frame
 * with a deadline; its resolution a `debugger.resume` frame. Resolution is compare-and-set:
 * the first of operator action, timeout, disable or cancel wins; later ones get
 * `pause_resolved`. Step pauses continue on timeout; approval pauses deny (fail closed).
 */
export class StepController {
  private readonly pauses = new Map<string, PauseRecord>();
  /** Resolved pause ids (so a second resolve answers 409, not 404). */
  private readonly resolvedIds = new Map<string, PauseResolution>();

  constructor(private readonly deps: StepControllerDeps, private settings: StepSettings) {}

  setSettings(s: StepSettings): void {
    this.settings = s;
  }

  open(): OpenPauseInfo[] {
    return [...this.pauses.values()].filter((p) => !p.resolved).map(({ pauseId, phase, inferenceId, deadlineMs, toolCallIds }) => ({ pauseId, phase, inferenceId, deadlineMs, toolCallIds }));
  }

  has(pauseId: string): boolean {
    return this.pauses.has(pauseId) || this.resolvedIds.has(pauseId);
  }

  /** The loop hooks of a run. */
  hooks(): LoopHooks {
    return {
      approval: (ctx) => this.pause(ctx, 'approval', `Approve ${ctx.approvalCalls.map((c) => c.name).join(', ')}?`),
      afterInference: (ctx) => {
        if (!this.deps.stepMode() || ctx.approvalHandled) return;
        return this.pause(ctx, 'after_inference', 'Review next action');
      },
      afterTools: (ctx) => {
        if (!this.deps.stepMode()) return;
        return this.pause(ctx, 'after_tools', 'Review tool results');
      },
    };
  }

  private pause(ctx: LoopHookContext, requested: PausePhase, summary: string): Promise<LoopHookDecision> {
    // With step mode on, the approval pause and the after_inference pause are one (phase approval).
    const phase = requested;
    const approval = phase === 'approval';
    const timeoutMs = approval ? this.settings.approvalTimeoutMs : this.settings.stepTimeoutMs;
    const pauseId = randomUUID();
    const deadlineMs = Date.now() + timeoutMs;
    const pending = phase === 'after_tools' ? [] : ctx.pendingCalls;
    const sinks = currentSinks();
    const publish = (e: Parameters<EventSink['publish']>[0]) => sinks.forEach((s) => s.publish(e));
    publish(createEvent('debugger-pause', ctx.run, {
      pauseId, phase, summary, deadlineMs, pendingTools: pending.map((c) => ({ id: c.id, name: c.name, input: c.args })),
    }));
    return new Promise<LoopHookDecision>((resolve) => {
      const rec: PauseRecord = {
        pauseId, phase, inferenceId: ctx.run.inferenceId, deadlineMs, toolCallIds: pending.map((c) => c.id), sinks, run: ctx.run,
        settle: resolve, resolved: false,
        timer: setTimeout(() => {
          if (approval) this.finish(rec, 'timeout', 'deny', rec.toolCallIds, 'timeout');
          else this.finish(rec, 'timeout', 'continue', [], 'timeout');
        }, timeoutMs),
      };
      rec.timer.unref?.();
      this.pauses.set(pauseId, rec);
      // cancel (or any end of the run) resolves the pause: the run gate publishes `aborted`
      const onAbort = () => {
        if (rec.resolved) return;
        rec.resolved = true;
        clearTimeout(rec.timer);
        this.pauses.delete(pauseId);
        this.resolvedIds.set(pauseId, 'aborted');
        resolve({ action: 'abort' });
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private finish(rec: PauseRecord, resolution: PauseResolution, effect: PauseEffect, toolCallIds: string[], by: string | null): void {
    if (rec.resolved) return;
    rec.resolved = true;
    clearTimeout(rec.timer);
    this.pauses.delete(rec.pauseId);
    this.resolvedIds.set(rec.pauseId, resolution);
    for (const s of rec.sinks) s.publish(createEvent('debugger-resume', rec.run, { pauseId: rec.pauseId, resolution, effect, toolCallIds, by }));
    if (effect === 'abort') {
      this.deps.cancelRun(rec.inferenceId);
      rec.settle({ action: 'abort' });
    } else if (effect === 'deny') {
      rec.settle({ action: 'deny', toolCallIds, reason: resolution === 'timeout' ? 'approval timed out' : 'denied by operator' });
    } else {
      rec.settle({ action: 'continue' });
    }
  }

  /** An operator's action on a pause (routes). */
  resolve(pauseId: string, action: PauseAction, toolCallIds: string[] | null, by: string | null): { phase: PausePhase; resolution: PauseResolution; effect: PauseEffect } {
    const rec = this.pauses.get(pauseId);
    if (!rec) {
      if (this.resolvedIds.has(pauseId)) throw new WebchatError('pause_resolved', `pause ${pauseId} is already resolved`, { resolution: this.resolvedIds.get(pauseId)! });
      throw new WebchatError('pause_not_found', `pause ${pauseId} not found`);
    }
    const ids = toolCallIds && toolCallIds.length ? toolCallIds : null;
    if (ids) {
      const unknown = ids.filter((id) => !rec.toolCallIds.includes(id));
      if (unknown.length) throw new WebchatError('bad_request', `tool_call_ids not pending at this pause: ${unknown.join(', ')}`, { tool_call_ids: unknown });
    }
    switch (action) {
      case 'abort':
        this.finish(rec, 'aborted', 'abort', [], by);
        return { phase: rec.phase, resolution: 'aborted', effect: 'abort' };
      case 'deny': {
        if (rec.phase === 'after_tools') throw new WebchatError('invalid_action', '`deny` is not valid at after_tools', { phase: rec.phase });
        const denied = ids ?? rec.toolCallIds;
        this.finish(rec, 'denied', 'deny', denied, by);
        return { phase: rec.phase, resolution: 'denied', effect: 'deny' };
      }
      case 'approve':
      case 'continue': {
        const resolution: PauseResolution = action === 'approve' ? 'approved' : 'continued';
        if (ids && rec.phase !== 'after_tools') {
          // approve only the listed calls: the others are denied
          const denied = rec.toolCallIds.filter((id) => !ids.includes(id));
          if (denied.length) {
            this.finish(rec, resolution, 'deny', denied, by);
            return { phase: rec.phase, resolution, effect: 'deny' };
          }
        }
        this.finish(rec, resolution, 'continue', [], by);
        return { phase: rec.phase, resolution, effect: 'continue' };
      }
    }
  }

  /** Step mode off: open step pauses continue (`disabled`); approval pauses stay open. */
  releaseStepPauses(): void {
    for (const rec of [...this.pauses.values()]) if (STEP_PHASES.includes(rec.phase)) this.finish(rec, 'disabled', 'continue', [], 'disable');
  }
}
