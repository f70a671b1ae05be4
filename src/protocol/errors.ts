import { z } from 'zod';

/** HTTP error codes and their statuses (protocol.md "Errors"). */
export const HTTP_ERRORS = {
  invalid_json: 400,
  bad_request: 400,
  missing_prompt: 400,
  override_not_allowed: 400,
  unauthorized: 401,
  forbidden: 403,
  conversation_not_found: 404,
  unknown_profile: 404,
  pause_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conversation_busy: 409,
  stale_inference: 409,
  pause_resolved: 409,
  invalid_action: 409,
  conversation_deleted: 410,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  expectation_failed: 417,
  idempotency_key_reused: 422,
  queue_full: 429,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  not_ready: 503,
} as const;
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `run.end.error.code`: a closed set, separate from the HTTP codes. */
export const RUN_ERROR_CODES = [
  'provider_auth',
  'provider_rate_limited',
  'provider_overloaded',
  'provider_bad_request',
  'provider_stream',
  'context_length_exceeded',
  'max_iterations',
  'tool_abort',
  'internal',
] as const;
export const RunErrorCode = z.enum(RUN_ERROR_CODES);
export type RunErrorCode = z.infer<typeof RunErrorCode>;

/** WebSocket close codes (protocol.md). */
export const CLOSE_CODES = {
  shutdown: 1001,
  policy: 1008,
  tooBig: 1009,
  overflow: 1013,
  forbidden: 4403,
  deleted: 4404,
} as const;
