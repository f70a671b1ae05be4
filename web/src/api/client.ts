import {
  CancelResponse,
  ChatResponse,
  ConversationList,
  ErrorBody,
  PauseActionResponse,
  ProfileInfo,
  TimelineSnapshot,
  type ChatRequest,
  type PauseAction,
} from '../protocol';
import type { z } from 'zod';

/**
 * HTTP calls of protocol.md "HTTP routes", all under the server's route prefix. Responses are
 * checked with the protocol schemas; an error body becomes an `ApiError` with its code.
 */

/** The route prefix (`--root`): the path of the page's `<base>`, which the server sets to `<root>/`. */
export const root = (): string => (typeof document !== 'undefined' ? new URL(document.baseURI).pathname.replace(/\/$/, '') : '');

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Record<string, unknown> | null = null) {
    super(message);
  }
}

async function request<S extends z.ZodType>(method: string, path: string, schema: S | null, body?: unknown): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(`${root()}${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'network', 'The server cannot be reached.', { cause: String(err) });
  }
  if (res.status === 204) return undefined as z.infer<S>;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* handled below */
  }
  if (!res.ok) {
    const e = ErrorBody.safeParse(json);
    if (e.success) throw new ApiError(res.status, e.data.error.code, e.data.error.message, e.data.error.details);
    throw new ApiError(res.status, 'http_error', `HTTP ${res.status}`);
  }
  if (!schema) return json as z.infer<S>;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError(res.status, 'bad_response', `unexpected response from ${path}`, { issues: parsed.error.issues });
  return parsed.data;
}

const enc = encodeURIComponent;

export const api = {
  listConversations: (limit = 50) => request('GET', `/api/conversations?limit=${limit}`, ConversationList),
  timeline: (convId: string) => request('GET', `/api/timeline?conv_id=${enc(convId)}`, TimelineSnapshot),
  chat: (body: ChatRequest) => request('POST', '/chat', ChatResponse, body),
  cancel: (convId: string, inferenceId: string) =>
    request('POST', `/api/conversations/${enc(convId)}/cancel`, CancelResponse, { inference_id: inferenceId }),
  deleteConversation: (convId: string) => request('DELETE', `/api/conversations/${enc(convId)}`, null),
  profiles: () => request('GET', '/api/chat/profiles', ProfileInfo.array()),
  selectedProfile: () => request('GET', '/api/chat/profile', null) as Promise<{ slug?: string }>,
  selectProfile: (slug: string) => request('POST', '/api/chat/profile', null, { slug }) as Promise<{ slug?: string }>,
  /** Resolves a pause; `toolCallIds` (approve: run only these, deny: deny only these) or all. */
  resolvePause: (convId: string, pauseId: string, action: PauseAction, toolCallIds?: readonly string[]) =>
    request('POST', `/api/conversations/${enc(convId)}/pauses/${enc(pauseId)}`, PauseActionResponse, toolCallIds ? { action, tool_call_ids: [...toolCallIds] } : { action }),
  setStepMode: (convId: string, enabled: boolean) =>
    request('PUT', `/api/conversations/${enc(convId)}/step-mode`, null, { enabled }),
};

/** `ws(s)://host<root>/ws?conv_id=…&since=…&epoch=…` */
export function socketUrl(q: { convId: string; since: number; epoch: string | null }): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams({ conv_id: q.convId, since: String(q.since) });
  if (q.epoch) params.set('epoch', q.epoch);
  return `${proto}//${location.host}${root()}/ws?${params.toString()}`;
}

/** A human sentence for an error thrown by `api`. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.code === 'network' || err.code === 'http_error' ? err.message : `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
