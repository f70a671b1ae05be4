import type { ProfileInfo } from '../../protocol/http';
import type { ChatService, PromptInput, WsLike } from '../../webchat/chat-service';
import { WebchatError } from '../../webchat/webchat-error';

/**
 * An in-test `ChatService`: records every call, answers fixed protocol shapes, and lets a test
 * replace any method (e.g. to throw a `WebchatError`). Tests only; the runtime is elsewhere.
 */

export interface Call {
  method: keyof ChatService;
  args: unknown[];
}

export const PROFILES: ProfileInfo[] = [
  { slug: 'zeta', display_name: 'Zeta', description: '', provider: 'demo', model: 'demo', offline: true, is_default: false },
  { slug: 'demo', display_name: 'Demo', description: 'offline', provider: 'demo', model: 'demo', offline: true, is_default: true },
  { slug: 'alpha', display_name: 'Alpha', description: '', provider: 'demo', model: 'demo', offline: true, is_default: false },
];

export type FakeChatService = ChatService & {
  calls: Call[];
  sockets: WsLike[];
  /** Calls other than the read-only profile lookups (which the HTTP layer may make first). */
  mutatingCalls(): Call[];
};

export function fakeChatService(overrides: Partial<ChatService> = {}): FakeChatService {
  const calls: Call[] = [];
  const sockets: WsLike[] = [];
  const record = (method: keyof ChatService, args: unknown[]) => calls.push({ method, args });

  const base: ChatService = {
    async submitPrompt(input: PromptInput) {
      return {
        httpStatus: 200,
        body: {
          status: 'started',
          conv_id: input.convId ?? 'conv-new',
          session_id: input.convId ?? 'conv-new',
          inference_id: 'inf-1',
          turn_id: 'turn-1',
          idempotency_key: input.idempotencyKey,
          runtime_key: input.runtimeKey ?? 'demo',
          seq: 1,
        },
      };
    },
    async cancel() {
      return { status: 'not_running' };
    },
    async getConversation(convId) {
      return {
        conv_id: convId,
        title: '',
        created_at_ms: 1,
        last_activity_ms: 1,
        runtime_key: 'demo',
        busy_policy: 'queue',
        running: null,
        queue: [],
        step_mode: false,
        open_pauses: [],
        last_seq: 0,
        epoch: 'e1',
      };
    },
    async listConversations() {
      return { items: [], next_cursor: null };
    },
    async deleteConversation() {},
    async readEvents(convId, since) {
      return { conv_id: convId, epoch: 'e1', frames: [], last_seq: 0, next_since: since, resync: false };
    },
    async getTimeline(convId) {
      return {
        convId,
        epoch: 'e1',
        version: 0,
        serverTimeMs: 1,
        conversation: { stepMode: false, running: null, queue: [], openPauses: [] },
        entities: [],
      } as unknown as Awaited<ReturnType<ChatService['getTimeline']>>;
    },
    async getTurns(convId) {
      return { conv_id: convId, turns: [] };
    },
    async setStepMode(_convId, enabled) {
      return { step_mode: enabled };
    },
    async resolvePause(convId, pauseId, action) {
      return {
        ok: true,
        pause: { pause_id: pauseId, phase: 'after_inference', conv_id: convId ?? 'c1', resolution: 'continued', effect: action },
      };
    },
    async attachSocket(_convId, ws) {
      sockets.push(ws);
    },
    onSocketMessage() {},
    listProfiles() {
      return PROFILES;
    },
    resolveProfileSlug(slug) {
      if (slug === null) return 'demo';
      if (!PROFILES.some((p) => p.slug === slug)) throw new WebchatError('unknown_profile', `no profile "${slug}"`, { slug });
      return slug;
    },
    async ready() {
      return { ready: true, checks: { store: true } };
    },
    async close() {},
  };

  const impl = { ...base, ...overrides };
  const service = {} as FakeChatService;
  for (const key of Object.keys(impl) as (keyof ChatService)[]) {
    const fn = impl[key] as (...args: unknown[]) => unknown;
    (service as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => {
      record(key, args);
      return fn.apply(impl, args);
    };
  }
  service.calls = calls;
  service.sockets = sockets;
  service.mutatingCalls = () => calls.filter((c) => c.method !== 'resolveProfileSlug' && c.method !== 'listProfiles');
  return service;
}
