import type { InferenceEvent } from '../inference/events';
import type { FrameDataOf, LlmMetadata, LogFrameType } from '../protocol/frames';
import { entityIds } from '../protocol/ids';

/** A frame the log should append (no seq yet). */
export interface FrameSpec<T extends LogFrameType = LogFrameType> {
  type: T;
  id: string;
  data: FrameDataOf<T>;
  metadata: LlmMetadata | null;
  /** The run the frame belongs to (fenced once the run is closed). */
  inferenceId: string | null;
}
export type AnyFrameSpec = { [T in LogFrameType]: FrameSpec<T> }[LogFrameType];

export interface TranslateContext {
  convId: string;
  runtimeKey: string;
}

export type TranslateHandler = (event: InferenceEvent, ctx: TranslateContext) => AnyFrameSpec | null;

function spec<T extends LogFrameType>(type: T, id: string, data: FrameDataOf<T>, e: InferenceEvent, metadata: LlmMetadata | null = null): FrameSpec<T> {
  return { type, id, data, metadata, inferenceId: e.meta.inferenceId };
}

function llmMeta(e: InferenceEvent): LlmMetadata {
  return { model: e.meta.model ?? null, stopReason: e.meta.stopReason ?? null, usage: e.meta.usage ?? null, durationMs: e.meta.durationMs ?? null };
}

const msgId = (e: InferenceEvent) => e.meta.messageId ?? '';

/**
 * Events → frames: deterministic, one event → at most one frame. A registry keyed by event type
 * (custom events by `custom:<name>`), so an application adds its own types without forking.
 */
export class Translator {
  private readonly handlers = new Map<string, TranslateHandler>();

  constructor() {
    const h = (type: InferenceEvent['type'], fn: (e: any, ctx: TranslateContext) => AnyFrameSpec | null) => this.handlers.set(type, fn);
    h('run-start', (e, ctx) => spec('run.start', e.meta.inferenceId, { inferenceId: e.meta.inferenceId, turnId: e.meta.turnId, sessionId: e.meta.sessionId, runtimeKey: ctx.runtimeKey }, e));
    h('run-end', (e) => spec('run.end', e.meta.inferenceId, { inferenceId: e.meta.inferenceId, turnId: e.meta.turnId, status: e.status, reason: e.reason, error: e.error, usage: e.usage }, e));
    h('start', (e) => spec('llm.start', msgId(e), { id: msgId(e), role: 'assistant' }, e, llmMeta(e)));
    h('partial', (e) => spec('llm.delta', msgId(e), { id: msgId(e), delta: e.delta, offset: e.offset }, e));
    h('final', (e) => spec('llm.final', msgId(e), { id: msgId(e), text: e.text }, e, llmMeta(e)));
    h('interrupt', (e) => spec('llm.final', msgId(e), { id: msgId(e), text: e.text }, e, llmMeta(e)));
    h('thinking-start', (e) => spec('llm.thinking.start', entityIds.thinking(msgId(e)), { id: entityIds.thinking(msgId(e)), role: 'thinking' }, e));
    h('partial-thinking', (e) => spec('llm.thinking.delta', entityIds.thinking(msgId(e)), { id: entityIds.thinking(msgId(e)), delta: e.delta, offset: e.offset }, e));
    h('thinking-final', (e) => spec('llm.thinking.final', entityIds.thinking(msgId(e)), { id: entityIds.thinking(msgId(e)), text: e.text }, e));
    h('error', (e) => spec('log', `log-${e.meta.eventId}`, { id: `log-${e.meta.eventId}`, level: 'error', message: e.message, fields: { code: e.code } }, e));
    h('log', (e) => spec('log', `log-${e.meta.eventId}`, { id: `log-${e.meta.eventId}`, level: e.level, message: e.message, fields: e.fields ?? null }, e));
    h('info', () => null);
    h('tool-call', (e) => spec('tool.start', e.toolCall.id, { id: e.toolCall.id, name: e.toolCall.name, input: e.toolCall.input ?? null, providerCallId: e.toolCall.providerCallId ?? null }, e));
    h('tool-call-execute', (e) => spec('tool.delta', e.toolCall.id, { id: e.toolCall.id, patch: { exec: true, input: e.toolCall.input ?? null } }, e));
    h('tool-call-execution-result', (e) =>
      spec('tool.result', e.result.id, { id: e.result.id, status: e.result.status, result: e.result.result ?? null, error: e.result.error ?? null, durationMs: e.result.durationMs ?? null, truncated: !!e.result.truncated, customKind: null }, e),
    );
    h('tool-call-done', (e) => spec('tool.done', e.toolCallId, { id: e.toolCallId }, e));
    h('debugger-pause', (e) =>
      spec('debugger.pause', e.pauseId, { id: e.pauseId, pauseId: e.pauseId, phase: e.phase, summary: e.summary, deadlineMs: e.deadlineMs, extra: { pendingTools: e.pendingTools } }, e),
    );
    h('debugger-resume', (e) => spec('debugger.resume', e.pauseId, { pauseId: e.pauseId, resolution: e.resolution, effect: e.effect, toolCallIds: e.toolCallIds, by: e.by }, e));
    h('custom', (e, ctx) => {
      const fn = this.handlers.get(`custom:${e.name}`);
      return fn ? fn(e, ctx) : null;
    });
  }

  /** Registers (or replaces) the handler of an event type; custom events use `custom:<name>`. */
  register(type: string, handler: TranslateHandler): this {
    this.handlers.set(type, handler);
    return this;
  }

  translate(event: InferenceEvent, ctx: TranslateContext): AnyFrameSpec | null {
    const fn = this.handlers.get(event.type);
    return fn ? fn(event, ctx) : null;
  }
}
