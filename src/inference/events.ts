import { randomUUID } from 'node:crypto';
import type { PauseEffect, PausePhase, PauseResolution, RunEndReason, RunError, RunStatus, ToolStatus, Usage } from '../protocol/frames';

/**
 * Metadata every event carries. `eventId` is minted when the event is created (never by a
 * translator); `messageId` is the LLM call's message id for message events.
 */
export interface EventMeta {
  eventId: string;
  createdAtMs: number;
  sessionId: string;
  inferenceId: string;
  turnId: string;
  messageId: string | null;
  model?: string | null;
  usage?: Usage | null;
  stopReason?: string | null;
  durationMs?: number | null;
}

export interface ToolResultPayload {
  id: string;
  status: ToolStatus;
  result: unknown;
  error: string | null;
  durationMs: number | null;
  truncated: boolean;
  retries: number;
}

export interface PendingToolInfo { id: string; name: string; input: unknown }

export type InferenceEvent =
  | { type: 'run-start'; meta: EventMeta }
  | { type: 'run-end'; meta: EventMeta; status: RunStatus; reason: RunEndReason; error: RunError | null; usage: Usage | null }
  | { type: 'start'; meta: EventMeta }
  | { type: 'partial'; meta: EventMeta; delta: string; offset: number }
  | { type: 'final'; meta: EventMeta; text: string }
  | { type: 'interrupt'; meta: EventMeta; text: string }
  | { type: 'thinking-start'; meta: EventMeta }
  | { type: 'partial-thinking'; meta: EventMeta; delta: string; offset: number }
  | { type: 'thinking-final'; meta: EventMeta; text: string }
  | { type: 'error'; meta: EventMeta; code: string; message: string }
  | { type: 'tool-call'; meta: EventMeta; toolCall: { id: string; name: string; input: unknown; providerCallId: string | null } }
  | { type: 'tool-call-execute'; meta: EventMeta; toolCall: { id: string; name: string; input: unknown } }
  | { type: 'tool-call-execution-result'; meta: EventMeta; result: ToolResultPayload }
  | { type: 'tool-call-done'; meta: EventMeta; toolCallId: string }
  | { type: 'log'; meta: EventMeta; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> | null }
  | { type: 'info'; meta: EventMeta; message: string; data: Record<string, unknown> | null }
  | {
      type: 'debugger-pause';
      meta: EventMeta;
      pauseId: string;
      phase: PausePhase;
      summary: string;
      deadlineMs: number;
      pendingTools: PendingToolInfo[];
    }
  | {
      type: 'debugger-resume';
      meta: EventMeta;
      pauseId: string;
      resolution: PauseResolution;
      effect: PauseEffect;
      toolCallIds: string[];
      by: string | null;
    }
  /** Application-defined events; the webchat translator registry maps them by `name`. */
  | { type: 'custom'; meta: EventMeta; name: string; data: unknown };

export type InferenceEventType = InferenceEvent['type'];
export type EventOf<T extends InferenceEventType> = Extract<InferenceEvent, { type: T }>;

/** The identity of a run that events are stamped with. */
export interface RunIdentity {
  sessionId: string;
  inferenceId: string;
  turnId: string;
}

export function makeMeta(id: RunIdentity, extra: Partial<Omit<EventMeta, 'eventId' | 'createdAtMs'>> = {}): EventMeta {
  return {
    eventId: randomUUID(),
    createdAtMs: Date.now(),
    sessionId: id.sessionId,
    inferenceId: id.inferenceId,
    turnId: id.turnId,
    messageId: null,
    ...extra,
  };
}

type Body<T extends InferenceEventType> = Omit<EventOf<T>, 'type' | 'meta'>;

/** Creates an event with a fresh id. */
export function createEvent<T extends InferenceEventType>(
  type: T,
  id: RunIdentity,
  body: Body<T>,
  meta: Partial<Omit<EventMeta, 'eventId' | 'createdAtMs'>> = {},
): EventOf<T> {
  return { type, meta: makeMeta(id, meta), ...body } as unknown as EventOf<T>;
}
