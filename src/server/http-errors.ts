import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError, type z } from 'zod';
import { HTTP_ERRORS, type ErrorBody, type HttpErrorCode } from '../protocol/errors';
import { isWebchatError, WebchatError } from '../webchat/webchat-error';

/**
 * The one error shape of protocol.md: `{"error":{"code","message","details"}}`, always
 * `application/json`. Every refusal of the HTTP layer goes through `errorHandler` (also the
 * router's `frameworkErrors`) or `notFoundHandler` below; what Node answers before Fastify
 * (parser errors, timeouts, refused upgrades) goes through `raw-response.ts`.
 */

export const errorBody = (code: string, message: string, details: Record<string, unknown> | null = null): ErrorBody => ({
  error: { code, message, details },
});

/** A refusal made by the HTTP layer itself (same class the runtime throws). */
export const httpError = (code: HttpErrorCode, message: string, details: Record<string, unknown> | null = null) =>
  new WebchatError(code, message, details);

/** Zod issues as plain, stable JSON (`path` joined with dots). */
export const zodIssues = (err: ZodError) =>
  err.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message }));

/** Parses `value` with a protocol schema; a failure is 400 `bad_request` naming the input. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = zodIssues(r.error);
  const first = issues[0];
  const where = first && first.path ? ` (${first.path}: ${first.message})` : first ? ` (${first.message})` : '';
  throw httpError('bad_request', `invalid ${what}${where}`, { issues });
}

export const sendError = (reply: FastifyReply, code: HttpErrorCode, message: string, details: Record<string, unknown> | null = null) =>
  reply.code(HTTP_ERRORS[code]).type('application/json; charset=utf-8').send(errorBody(code, message, details));

/** Fastify's own error codes → protocol codes. */
const FASTIFY_CODES: Record<string, [HttpErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'request body is empty but Content-Type is application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'request body is over the limit'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'request body must be application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_request', 'request body length does not match Content-Length'],
  FST_ERR_BAD_URL: ['bad_request', 'malformed URL (bad percent-encoding)'],
  FST_ERR_MAX_PARAM_LENGTH: ['uri_too_long', 'a path segment is too long'],
  FST_ERR_ASYNC_CONSTRAINT: ['bad_request', 'bad request'],
  FST_ERR_VALIDATION: ['bad_request', 'invalid request'],
};

/** Fallback for other 4xx errors Fastify or a plugin may raise. */
const STATUS_CODES: Record<number, HttpErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  429: 'rate_limited',
  431: 'headers_too_large',
  503: 'not_ready',
};

export interface ErrorHandlerOptions {
  /** Limit in bytes, reported in the 413 details. */
  bodyLimit: number;
}

export function errorHandler(opts: ErrorHandlerOptions) {
  return function handle(this: FastifyInstance, err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
    if (isWebchatError(err)) {
      if (err.code === 'rate_limited' && typeof err.details?.retry_after_s === 'number') {
        reply.header('retry-after', String(Math.ceil(err.details.retry_after_s)));
      }
      return sendError(reply, err.code, err.message, err.details);
    }
    if (err instanceof ZodError) {
      return sendError(reply, 'bad_request', 'invalid request', { issues: zodIssues(err) });
    }
    const fe = err as FastifyError;
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (known) {
      const [code, message] = known;
      const details = code === 'payload_too_large' ? { limit_bytes: opts.bodyLimit } : null;
      return sendError(reply, code, message, details);
    }
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = STATUS_CODES[status] ?? 'bad_request';
      return sendError(reply, code, fe.message || code, null);
    }
    // A bug: log it with the request id, answer the id (never the error text).
    request.log.error({ err }, 'unhandled error'); // the request logger carries request_id
    return sendError(reply, 'internal', 'internal server error', { request_id: request.id });
  };
}

/** `GET`/`HEAD` of a page path (not API, not an asset) that a browser asks for. */
export type SpaFallback = (request: FastifyRequest, reply: FastifyReply) => boolean;

export function notFoundHandler(spaFallback: SpaFallback | null) {
  return function handle(request: FastifyRequest, reply: FastifyReply) {
    if (spaFallback && spaFallback(request, reply)) return reply;
    const path = request.url.split('?')[0]!;
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    return sendError(reply, 'not_found', `no route ${request.method} ${shown}`, null);
  };
}
