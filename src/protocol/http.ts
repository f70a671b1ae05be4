import { z } from 'zod';
import { PausePhase, PauseResolution, PauseEffect, RunStatus } from './frames';
import { ConvId } from './ids';

// HTTP request and response bodies are snake_case.

export const BUSY_POLICIES = ['queue', 'reject', 'interrupt'] as const;
export const BusyPolicy = z.enum(BUSY_POLICIES);
export type BusyPolicy = z.infer<typeof BusyPolicy>;

export const OVERRIDE_KEYS = ['system_prompt', 'step_mode', 'busy_policy', 'temperature'] as const;
export const RequestOverrides = z
  .object({
    system_prompt: z.string().optional(),
    step_mode: z.boolean().optional(),
    busy_policy: BusyPolicy.optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();
export type RequestOverrides = z.infer<typeof RequestOverrides>;

export const ChatRequest = z.object({
  prompt: z.string().optional(),
  text: z.string().optional(),
  conv_id: z.string().optional(),
  runtime_key: z.string().optional(),
  idempotency_key: z.string().min(1).max(256).optional(),
  request_overrides: RequestOverrides.optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export const ChatStartedResponse = z.object({
  status: z.literal('started'),
  conv_id: z.string(),
  session_id: z.string(),
  inference_id: z.string(),
  turn_id: z.string(),
  idempotency_key: z.string().nullable(),
  runtime_key: z.string(),
  seq: z.number().int(),
});
export const ChatQueuedResponse = z.object({
  status: z.literal('queued'),
  conv_id: z.string(),
  session_id: z.string(),
  turn_id: z.string(),
  idempotency_key: z.string().nullable(),
  runtime_key: z.string(),
  queue_position: z.number().int(),
  queue_depth: z.number().int(),
  seq: z.number().int(),
});
export const ChatResponse = z.discriminatedUnion('status', [ChatStartedResponse, ChatQueuedResponse]);
export type ChatStartedResponse = z.infer<typeof ChatStartedResponse>;
export type ChatQueuedResponse = z.infer<typeof ChatQueuedResponse>;
export type ChatResponse = z.infer<typeof ChatResponse>;

export const ConversationSummary = z.object({
  conv_id: z.string(),
  title: z.string(),
  created_at_ms: z.number(),
  last_activity_ms: z.number(),
  running: z.boolean(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const ConversationList = z.object({
  items: z.array(ConversationSummary),
  next_cursor: z.string().nullable(),
});
export type ConversationList = z.infer<typeof ConversationList>;

export const RunningInfo = z.object({
  inference_id: z.string(),
  turn_id: z.string(),
  started_at_ms: z.number(),
});
export const QueueItem = z.object({
  turn_id: z.string(),
  idempotency_key: z.string().nullable(),
  position: z.number().int(),
  prompt: z.string(),
});
export const OpenPause = z.object({
  pause_id: z.string(),
  phase: PausePhase,
  deadline_ms: z.number(),
  tool_call_ids: z.array(z.string()),
});
export const ConversationState = z.object({
  conv_id: z.string(),
  title: z.string(),
  created_at_ms: z.number(),
  last_activity_ms: z.number(),
  runtime_key: z.string(),
  busy_policy: BusyPolicy,
  running: RunningInfo.nullable(),
  queue: z.array(QueueItem),
  step_mode: z.boolean(),
  open_pauses: z.array(OpenPause),
  last_seq: z.number().int(),
  epoch: z.string(),
});
export type ConversationState = z.infer<typeof ConversationState>;

export const EventsQuery = z.object({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
export const EventsResponse = z.object({
  conv_id: z.string(),
  epoch: z.string(),
  frames: z.array(z.unknown()),
  last_seq: z.number().int(),
  next_since: z.number().int(),
  resync: z.boolean(),
});
export type EventsResponse = z.infer<typeof EventsResponse>;

export const TurnsResponse = z.object({
  conv_id: z.string(),
  turns: z.array(
    z.object({
      turn_id: z.string(),
      inference_id: z.string().nullable(),
      status: z.string().nullable(),
      created_at_ms: z.number(),
      blocks: z.array(z.unknown()),
    }),
  ),
});

export const CancelRequest = z.object({
  inference_id: z.string().optional(),
  clear_queue: z.boolean().optional(),
});
export const CancelResponse = z.discriminatedUnion('status', [
  z.object({ status: z.literal('cancelled'), inference_id: z.string(), seq: z.number().int() }),
  z.object({ status: z.literal('already_finished'), inference_id: z.string(), run_status: RunStatus }),
  z.object({ status: z.literal('not_running') }),
]);
export type CancelResponse = z.infer<typeof CancelResponse>;

export const StepModeRequest = z.object({ enabled: z.boolean() });
export const PAUSE_ACTIONS = ['continue', 'approve', 'deny', 'abort'] as const;
export const PauseAction = z.enum(PAUSE_ACTIONS);
export type PauseAction = z.infer<typeof PauseAction>;
export const PauseActionRequest = z.object({
  action: PauseAction,
  tool_call_ids: z.array(z.string()).optional(),
});
export const PauseActionResponse = z.object({
  ok: z.literal(true),
  pause: z.object({
    pause_id: z.string(),
    phase: PausePhase,
    conv_id: z.string(),
    resolution: PauseResolution,
    effect: PauseEffect,
  }),
});
export const DebugStepRequest = z.object({ conv_id: z.string() });
export const DebugContinueRequest = z.object({
  pause_id: z.string(),
  conv_id: z.string().optional(),
  action: PauseAction.optional(),
  tool_call_ids: z.array(z.string()).optional(),
});

export const ProfileInfo = z.object({
  slug: z.string(),
  display_name: z.string(),
  description: z.string(),
  provider: z.string(),
  model: z.string(),
  offline: z.boolean(),
  is_default: z.boolean(),
});
export type ProfileInfo = z.infer<typeof ProfileInfo>;
export const SelectProfileRequest = z.object({ slug: z.string() });

// ---- query and path shapes (protocol.md gives them in prose) --------------------------------

/** `GET /api/conversations?limit=&cursor=` */
export const ListConversationsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
/** `GET /api/conversations/:id/turns?full=1` */
export const TurnsQuery = z.object({
  full: z
    .enum(['1', '0', 'true', 'false'])
    .optional()
    .transform((v) => v === '1' || v === 'true'),
});
/** `GET /api/timeline?conv_id=` */
export const TimelineQuery = z.object({ conv_id: ConvId });
/** `POST /chat?runtime_key=` and `POST /chat/:runtime_key` */
export const ChatQuery = z.object({ runtime_key: z.string().min(1).optional() });
export const RuntimeKeyParam = z.object({ runtime_key: z.string().min(1) });
/** Pause ids are opaque (UUIDs in practice); bounded like every input. */
export const PauseId = z.string().min(1).max(256);
