import type { FastifyRequest } from 'fastify';
import type { ChatService } from '../../webchat/chat-service';
import type { Config } from '../config';
import type { Metrics } from '../metrics';

/** What every route plugin receives. */
export interface RouteDeps {
  service: ChatService;
  config: Config;
  metrics: Metrics;
}

/**
 * The authenticated principal of a request. Auth is not implemented yet: everyone is the
 * anonymous principal (`null`). This is the one seam an auth plugin fills in.
 */
export const principalOf = (_request: FastifyRequest): string | null => null;

/**
 * A JSON body as the schemas expect it: top-level `null` values count as absent (clients write
 * `"conv_id": null` for "none", following the protocol's every-field-present convention).
 * A request without any body is an empty object; anything not an object is left for the schema
 * to refuse.
 */
export function bodyOf(request: FastifyRequest): unknown {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([, v]) => v !== null));
}
