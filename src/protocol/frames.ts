import { z } from 'zod';
import { RunErrorCode } from './errors';

// Frame `data` payloads are camelCase (Pinocchio SEM compatibility). Every declared field is
// always present (null / "" / [] when empty).

export const Usage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cachedTokens: z.number().int(),
});
export type Usage = z.infer<typeof Usage>;
export const EMPTY_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

export const LlmMetadata = z.object({
  model: z.string().nullable(),
  stopReason: z.string().nullable(),
  usage: Usage.nullable(),
  durationMs: z.number().nullable(),
});
export type LlmMetadata = z.infer<typeof LlmMetadata>;

export const RUN_STATUSES = ['completed', 'cancelled', 'error', 'interrupted'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

export const RUN_END_REASONS = [
  'completed',
  'user_cancel',
  'superseded',
  'deleted',
  'shutdown',
  'owner_lost',
  'pause_abort',
  'error',
] as const;
export const RunEndReason = z.enum(RUN_END_REASONS);
export type RunEndReason = z.infer<typeof RunEndReason>;

export const RunError = z.object({ code: RunErrorCode, message: z.string() });
export type RunError = z.infer<typeof RunError>;

export const TOOL_STATUSES = ['completed', 'error', 'denied', 'cancelled', 'timeout'] as const;
export const ToolStatus = z.enum(TOOL_STATUSES);
export type ToolStatus = z.infer<typeof ToolStatus>;

export const PAUSE_PHASES = ['after_inference', 'after_tools', 'approval'] as const;
export const PausePhase = z.enum(PAUSE_PHASES);
export type PausePhase = z.infer<typeof PausePhase>;

export const PAUSE_RESOLUTIONS = ['continued', 'approved', 'denied', 'aborted', 'timeout', 'disabled'] as const;
export const PauseResolution = z.enum(PAUSE_RESOLUTIONS);
export type PauseResolution = z.infer<typeof PauseResolution>;

export const PauseEffect = z.enum(['continue', 'deny', 'abort']);
export type PauseEffect = z.infer<typeof PauseEffect>;

export const QUEUE_STATUSES = ['queued', 'started', 'dropped'] as const;
export const QueueStatus = z.enum(QUEUE_STATUSES);

export const RESYNC_REASONS = ['since_too_old', 'since_ahead', 'epoch_changed'] as const;
export const ResyncReason = z.enum(RESYNC_REASONS);
export type ResyncReason = z.infer<typeof ResyncReason>;

const PendingTool = z.object({ id: z.string(), name: z.string(), input: z.unknown() });

/** data schema per frame type. */
export const FrameData = {
  'ws.hello': z.object({
    convId: z.string(),
    runtimeKey: z.string(),
    serverTime: z.number(),
    lastSeq: z.number().int(),
    epoch: z.string(),
    protocolVersion: z.literal(1),
  }),
  'ws.pong': z.object({ convId: z.string(), serverTime: z.number() }),
  'ws.resync': z.object({
    convId: z.string(),
    lastSeq: z.number().int(),
    epoch: z.string(),
    reason: ResyncReason,
  }),
  'run.queued': z.object({
    turnId: z.string(),
    idempotencyKey: z.string().nullable(),
    prompt: z.string(),
    status: QueueStatus,
    reason: z.string().nullable(),
    position: z.number().int(),
    depth: z.number().int(),
  }),
  'chat.message': z.object({
    schemaVersion: z.literal(1),
    role: z.literal('user'),
    content: z.string(),
    turnId: z.string(),
  }),
  'run.start': z.object({
    inferenceId: z.string(),
    turnId: z.string(),
    sessionId: z.string(),
    runtimeKey: z.string(),
  }),
  'run.end': z.object({
    inferenceId: z.string(),
    turnId: z.string(),
    status: RunStatus,
    reason: RunEndReason,
    error: RunError.nullable(),
    usage: Usage.nullable(),
  }),
  'llm.start': z.object({ id: z.string(), role: z.literal('assistant') }),
  'llm.delta': z.object({ id: z.string(), delta: z.string(), offset: z.number().int() }),
  'llm.final': z.object({ id: z.string(), text: z.string() }),
  'llm.thinking.start': z.object({ id: z.string(), role: z.literal('thinking') }),
  'llm.thinking.delta': z.object({ id: z.string(), delta: z.string(), offset: z.number().int() }),
  'llm.thinking.final': z.object({ id: z.string(), text: z.string() }),
  'tool.start': z.object({
    id: z.string(),
    name: z.string(),
    input: z.unknown(),
    providerCallId: z.string().nullable(),
  }),
  'tool.delta': z.object({
    id: z.string(),
    patch: z.object({ exec: z.literal(true), input: z.unknown() }),
  }),
  'tool.result': z.object({
    id: z.string(),
    status: ToolStatus,
    result: z.unknown(),
    error: z.string().nullable(),
    durationMs: z.number().nullable(),
    truncated: z.boolean(),
    customKind: z.string().nullable(),
  }),
  'tool.done': z.object({ id: z.string() }),
  'debugger.pause': z.object({
    id: z.string(),
    pauseId: z.string(),
    phase: PausePhase,
    summary: z.string(),
    deadlineMs: z.number(),
    extra: z.object({ pendingTools: z.array(PendingTool) }),
  }),
  'debugger.resume': z.object({
    pauseId: z.string(),
    resolution: PauseResolution,
    effect: PauseEffect,
    toolCallIds: z.array(z.string()),
    by: z.string().nullable(),
  }),
  'step.mode': z.object({ enabled: z.boolean() }),
  log: z.object({
    id: z.string(),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    fields: z.record(z.string(), z.unknown()).nullable(),
  }),
  'agent.mode': z.object({ from: z.string(), to: z.string(), analysis: z.string() }),
} as const;

export type FrameType = keyof typeof FrameData;
export type FrameDataOf<T extends FrameType> = z.infer<(typeof FrameData)[T]>;

/** Control frames carry `seq: null`; everything else is a log frame with a seq. */
export const CONTROL_FRAME_TYPES = ['ws.hello', 'ws.pong', 'ws.resync'] as const;
export type ControlFrameType = (typeof CONTROL_FRAME_TYPES)[number];
export type LogFrameType = Exclude<FrameType, ControlFrameType>;

/** The event inside a SEM envelope, generic over its type. */
export interface FrameEvent<T extends FrameType = FrameType> {
  type: T;
  id: string;
  seq: number | null;
  stream_id: string | null;
  data: FrameDataOf<T>;
  metadata: LlmMetadata | null;
}
export type AnyFrameEvent = { [T in FrameType]: FrameEvent<T> }[FrameType];
export interface Envelope<T extends FrameType = FrameType> {
  sem: true;
  event: FrameEvent<T>;
}
export type AnyEnvelope = { [T in FrameType]: Envelope<T> }[FrameType];

function eventSchema<T extends FrameType>(type: T) {
  return z.object({
    type: z.literal(type),
    id: z.string(),
    seq: z.number().int().positive().nullable(),
    stream_id: z.string().nullable(),
    data: FrameData[type],
    metadata: LlmMetadata.nullable(),
  });
}

const eventSchemas = (Object.keys(FrameData) as FrameType[]).map((t) => eventSchema(t));

/** Strict schema of a whole envelope; the UI and tests validate every frame with it. */
export const EnvelopeSchema = z.object({
  sem: z.literal(true),
  event: z.discriminatedUnion('type', eventSchemas as unknown as [ReturnType<typeof eventSchema>]),
});

/** Builds an envelope (server side). */
export function envelope<T extends FrameType>(
  type: T,
  id: string,
  data: FrameDataOf<T>,
  opts: { seq?: number | null; streamId?: string | null; metadata?: LlmMetadata | null } = {},
): Envelope<T> {
  return {
    sem: true,
    event: { type, id, seq: opts.seq ?? null, stream_id: opts.streamId ?? null, data, metadata: opts.metadata ?? null },
  };
}
