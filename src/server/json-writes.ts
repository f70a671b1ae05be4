import type { FastifyRequest } from 'fastify';
import { httpError } from './http-errors';

/**
 * Every state-changing request (POST, PUT, PATCH) must say `Content-Type: application/json`,
 * even with nothing to send (`{}`). A browser sends a cross-site "simple" request (a form, or a
 * `no-cors` fetch: no body or a `text/plain` one) without asking the server first, but never
 * with a JSON content type; refusing everything else keeps other sites from cancelling runs or
 * posting prompts. Runs as an `onRequest` hook: before the body is read, after the router
 * matched (an unknown path stays 404, a wrong method stays 405).
 */

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The media type of a `Content-Type` value (lower case, without parameters). */
export const mediaType = (header: string | undefined): string | null =>
  header === undefined ? null : header.split(';', 1)[0]!.trim().toLowerCase() || null;

export async function requireJsonWrites(request: FastifyRequest): Promise<void> {
  if (!WRITE_METHODS.has(request.method)) return;
  if (request.is404 || (request.routeOptions.config as { methodGuard?: boolean } | undefined)?.methodGuard) return;
  const type = mediaType(request.headers['content-type']);
  if (type === 'application/json') return;
  throw httpError(
    'unsupported_media_type',
    `${request.method} needs Content-Type: application/json (send {} when there is nothing to say)` +
      (type ? `; got ${type.slice(0, 100)}` : '; got no Content-Type'),
    { content_type: type === null ? null : type.slice(0, 100) },
  );
}
