import { APIError } from 'openai';
import { readSseBatches, SSE_END, type EventSourceMessage } from './sse-reader';

/**
 * The events of an OpenAI-family stream (Chat Completions chunks, Responses events) read from
 * the raw `Response` the SDK returned (`.asResponse()`: the SDK still builds, authenticates and
 * sends the request and turns an HTTP error status into its `APIError`), in batches, one per
 * network read (see `readSseBatches`).
 *
 * Decodes every message exactly as the SDK's `Stream` does for these APIs: `data: [DONE]` ends
 * the events (the rest of the body is read and ignored); any other data is JSON (unparsable →
 * the `SyntaxError`, a malformed stream); a payload with an `error` member is thrown as the
 * SDK's `APIError` (status unknown, the body's `type`/`code` kept, the response headers
 * attached), so errors classify exactly as before. Payloads of named events (`event: error`,
 * `event: response.failed`, …) are passed through: the Responses engine reads their `type`.
 */
export function openaiEventBatches<T>(response: Response, signal: AbortSignal): AsyncIterable<T[]> {
  return readSseBatches<T>(response, (m) => decodeOpenAIMessage<T>(m, response.headers), signal);
}

function decodeOpenAIMessage<T>(message: EventSourceMessage, headers: Headers): T | typeof SSE_END {
  const { data } = message;
  if (data.startsWith('[DONE]')) return SSE_END;
  const value = JSON.parse(data) as T & { error?: unknown };
  if (value && value.error) throw new APIError(undefined, value.error as object, undefined, headers);
  return value;
}
