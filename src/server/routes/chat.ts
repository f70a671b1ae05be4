import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ChatQuery, ChatRequest, RuntimeKeyParam } from '../../protocol/http';
import { ConvId } from '../../protocol/ids';
import type { ChatService } from '../../webchat/chat-service';
import { isWebchatError } from '../../webchat/webchat-error';
import { parseCookies, PROFILE_COOKIE } from '../cookies';
import { httpError, parseInput } from '../http-errors';
import { bodyOf, principalOf, type RouteDeps } from './deps';

/** `POST /chat`, `POST /chat/:runtime_key` (protocol.md "POST /chat"). */

const IdempotencyKey = ChatRequest.shape.idempotency_key;

/** Code points, counted without allocating (UTF-16 length is an upper bound). */
export function countChars(s: string, atMost: number): number {
  if (s.length <= atMost) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The slug of the `chat_profile` cookie, or null when absent or no longer a known profile. */
export function cookieProfile(service: ChatService, request: FastifyRequest): string | null {
  const slug = parseCookies(request.headers.cookie)[PROFILE_COOKIE];
  if (!slug) return null;
  try {
    return service.resolveProfileSlug(slug);
  } catch (e) {
    if (isWebchatError(e) && e.code === 'unknown_profile') return null; // stale cookie → default
    throw e;
  }
}

export async function chatRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { service, config } = deps;

  const handle = async (request: FastifyRequest) => {
    const body = parseInput(ChatRequest, bodyOf(request), 'request body');
    const query = parseInput(ChatQuery, request.query, 'query');
    const params = request.params as Record<string, unknown>;
    const pathKey = 'runtime_key' in params ? parseInput(RuntimeKeyParam, params, 'path').runtime_key : undefined;

    const prompt = body.prompt ?? body.text;
    if (prompt === undefined || prompt.trim() === '') {
      throw httpError('missing_prompt', 'prompt is empty (send "prompt" or "text")');
    }
    const chars = countChars(prompt, config.maxPromptChars);
    if (chars > config.maxPromptChars) {
      throw httpError('bad_request', `prompt is ${chars} characters; the limit is ${config.maxPromptChars}`, {
        max_prompt_chars: config.maxPromptChars,
        prompt_chars: chars,
      });
    }
    const convId = body.conv_id === undefined ? null : parseInput(ConvId, body.conv_id, 'conv_id');

    const header = request.headers['idempotency-key'];
    const headerKey = header === undefined ? undefined : parseInput(IdempotencyKey, header, 'Idempotency-Key header');
    if (headerKey !== undefined && body.idempotency_key !== undefined && headerKey !== body.idempotency_key) {
      throw httpError('bad_request', 'Idempotency-Key header and body idempotency_key differ');
    }
    const idempotencyKey = body.idempotency_key ?? headerKey ?? null;

    // Precedence: path > body > query > cookie > default. An explicit unknown slug is refused
    // (404 unknown_profile); a stale cookie falls back to the default.
    const explicit = pathKey ?? body.runtime_key ?? query.runtime_key;
    const runtimeKey =
      explicit !== undefined ? service.resolveProfileSlug(explicit) : cookieProfile(service, request) ?? service.resolveProfileSlug(null);

    return service.submitPrompt({
      prompt,
      convId,
      runtimeKey,
      idempotencyKey,
      overrides: body.request_overrides ?? null,
      principal: principalOf(request),
    });
  };

  app.post('/chat', async (request, reply) => {
    const outcome = await handle(request);
    return reply.code(outcome.httpStatus).send(outcome.body);
  });
  app.post('/chat/:runtime_key', async (request, reply) => {
    const outcome = await handle(request);
    return reply.code(outcome.httpStatus).send(outcome.body);
  });
}
