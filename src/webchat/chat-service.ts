import type {
  CancelResponse,
  ChatResponse,
  ConversationList,
  ConversationState,
  EventsResponse,
  PauseAction,
  ProfileInfo,
  RequestOverrides,
} from '../protocol/http';
import type { TimelineSnapshot } from '../protocol/timeline';

/** The socket surface the webchat layer needs (a `ws` WebSocket satisfies it). */
export interface WsLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Buffer, options: { binary?: boolean }, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'close', fn: () => void): void;
}

export interface PromptInput {
  prompt: string;
  convId: string | null;
  runtimeKey: string | null;
  idempotencyKey: string | null;
  overrides: RequestOverrides | null;
  principal: string | null;
}

export interface PromptOutcome {
  httpStatus: 200 | 202;
  body: ChatResponse;
}

export interface PauseOutcome {
  ok: true;
  pause: { pause_id: string; phase: string; conv_id: string; resolution: string; effect: string };
}

/**
 * What the HTTP/WebSocket layer calls (src/server → src/webchat). Every method throws
 * `WebchatError` (code + HTTP status from protocol.md) for a refused request; a refused request
 * changes nothing.
 */
export interface ChatService {
  submitPrompt(input: PromptInput): Promise<PromptOutcome>;
  cancel(convId: string, opts: { inferenceId: string | null; clearQueue: boolean }, principal: string | null): Promise<CancelResponse>;
  getConversation(convId: string, principal: string | null): Promise<ConversationState>;
  listConversations(opts: { limit: number; cursor: string | null }, principal: string | null): Promise<ConversationList>;
  deleteConversation(convId: string, principal: string | null): Promise<void>;
  readEvents(convId: string, since: number, limit: number, principal: string | null): Promise<EventsResponse>;
  getTimeline(convId: string, principal: string | null): Promise<TimelineSnapshot>;
  getTurns(convId: string, full: boolean, principal: string | null): Promise<unknown>;
  setStepMode(convId: string, enabled: boolean, principal: string | null): Promise<{ step_mode: boolean }>;
  resolvePause(convId: string | null, pauseId: string, action: PauseAction, toolCallIds: string[] | null, principal: string | null): Promise<PauseOutcome>;
  /** Takes over a WebSocket for `convId`: hello, replay from `since`, then live frames. */
  attachSocket(convId: string, ws: WsLike, opts: { since: number | null; epoch: string | null }, principal: string | null): Promise<void>;
  /** Handles a text message from a client socket (ping → pong). */
  onSocketMessage(convId: string, ws: WsLike, text: string): void;
  listProfiles(): ProfileInfo[];
  /** The profile slug a cookie/explicit value resolves to; throws unknown_profile. */
  resolveProfileSlug(slug: string | null): string;
  ready(): Promise<{ ready: boolean; checks: Record<string, boolean> }>;
  /** Graceful: ends runs (reason shutdown), closes sockets 1001, flushes the store. */
  close(): Promise<void>;
}
