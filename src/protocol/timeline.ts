import { z } from 'zod';
import { PausePhase, PauseResolution, RunError, RunStatus, ToolStatus, Usage } from './frames';

// The hydration snapshot (`/api/timeline`) is camelCase.

export const ENTITY_KINDS = ['message', 'tool_call', 'tool_result', 'pause', 'run', 'log'] as const;
export const EntityKind = z.enum(ENTITY_KINDS);
export type EntityKind = z.infer<typeof EntityKind>;

export const MessageProps = z.object({
  role: z.enum(['user', 'assistant', 'thinking']),
  content: z.string(),
  streaming: z.boolean(),
  turnId: z.string().nullable(),
});
export const ToolCallProps = z.object({
  name: z.string(),
  input: z.unknown(),
  status: z.enum(['running', 'completed', 'error', 'denied', 'cancelled', 'timeout']),
  done: z.boolean(),
});
export const ToolResultProps = z.object({
  toolCallId: z.string(),
  result: z.unknown(),
  error: z.string().nullable(),
  status: ToolStatus,
  /** Addition to protocol.md: how long the tool ran (null when it never ran). */
  durationMs: z.number().nullable(),
});
export const PauseProps = z.object({
  pauseId: z.string(),
  phase: PausePhase,
  summary: z.string(),
  deadlineMs: z.number(),
  resolution: PauseResolution.nullable(),
});
export const RunProps = z.object({
  inferenceId: z.string(),
  status: z.union([RunStatus, z.literal('running')]),
  reason: z.string().nullable(),
  error: RunError.nullable(),
  /** Addition to protocol.md: the run's token usage (null while running or when unknown). */
  usage: Usage.nullable(),
});
export const LogProps = z.object({ level: z.string(), message: z.string() });

export const PropsByKind = {
  message: MessageProps,
  tool_call: ToolCallProps,
  tool_result: ToolResultProps,
  pause: PauseProps,
  run: RunProps,
  log: LogProps,
} as const;
export type PropsOf<K extends EntityKind> = z.infer<(typeof PropsByKind)[K]>;

export const TimelineEntity = z.object({
  id: z.string(),
  kind: EntityKind,
  firstSeq: z.number().int(),
  version: z.number().int(),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
  props: z.record(z.string(), z.unknown()),
});
export type TimelineEntity = z.infer<typeof TimelineEntity>;

export const TimelineQueueItem = z.object({
  turnId: z.string(),
  idempotencyKey: z.string().nullable(),
  prompt: z.string(),
  position: z.number().int(),
});
export const TimelineOpenPause = z.object({
  pauseId: z.string(),
  phase: PausePhase,
  deadlineMs: z.number(),
  toolCallIds: z.array(z.string()),
});

export const TimelineSnapshot = z.object({
  convId: z.string(),
  epoch: z.string(),
  version: z.number().int(),
  serverTimeMs: z.number(),
  conversation: z.object({
    stepMode: z.boolean(),
    running: z
      .object({ inferenceId: z.string(), turnId: z.string(), startedAtMs: z.number() })
      .nullable(),
    queue: z.array(TimelineQueueItem),
    openPauses: z.array(TimelineOpenPause),
  }),
  entities: z.array(TimelineEntity),
});
export type TimelineSnapshot = z.infer<typeof TimelineSnapshot>;
