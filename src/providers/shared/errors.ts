import type { RunErrorCode } from '../../protocol/errors';
import { ProviderError } from '../../inference/errors';

/**
 * Maps whatever an SDK (or the network under it) threw to a `ProviderError` whose code is one
 * of the `run.end` error codes. SDK-agnostic: reads `status`, `headers`, `code`, `type` and the
 * message, so it works for the OpenAI, Anthropic and Gemini SDKs alike.
 *
 * | condition                                                        | code                      | retryable |
 * |------------------------------------------------------------------|---------------------------|-----------|
 * | 401, 403, invalid-key messages                                   | `provider_auth`           | no        |
 * | 429 (except `insufficient_quota`)                                | `provider_rate_limited`   | yes       |
 * | 408, 5xx, 529, "overloaded"                                      | `provider_overloaded`     | yes       |
 * | 4xx whose code/message says the context is too long              | `context_length_exceeded` | no        |
 * | other 4xx (400, 404, 413, 422, quota exhausted)                  | `provider_bad_request`    | no        |
 * | connection reset/refused, unexpected end of stream, timeout      | `provider_stream`         | yes       |
 * | malformed stream (unparsable JSON)                               | `provider_stream`         | no        |
 * | anything else (a bug)                                            | `internal`                | no        |
 */
export function classifyProviderError(err: unknown, opts: { secrets?: readonly (string | null | undefined)[] } = {}): ProviderError {
  const secrets = opts.secrets ?? [];
  if (err instanceof ProviderError) {
    const message = redactSecrets(err.message, secrets);
    return message === err.message ? err : new ProviderError(err.code, message, err.opts);
  }
  const info = describeError(err);
  const message = redactSecrets(info.message, secrets);
  const mk = (code: RunErrorCode, retryable: boolean, retryAfterMs: number | null = null) =>
    new ProviderError(code, message, { status: info.status ?? undefined, retryAfterMs, retryable, cause: err });

  const status = info.status;
  const codes = info.codes.map((c) => c.toLowerCase());
  const has = (...names: string[]) => names.some((n) => codes.includes(n.toLowerCase()));

  if (status === 401 || status === 403 || has('authentication_error', 'permission_error', 'invalid_api_key', 'unauthenticated', 'permission_denied', 'api_key_invalid')
    || AUTH_MESSAGE.test(info.message)) {
    return mk('provider_auth', false);
  }
  if (has('context_length_exceeded') || CONTEXT_MESSAGE.some((re) => re.test(info.message))) {
    return mk('context_length_exceeded', false);
  }
  if (status === 429 || has('rate_limit_error', 'rate_limit_exceeded', 'resource_exhausted', 'rate_limited')) {
    if (has('insufficient_quota')) return mk('provider_bad_request', false);
    return mk('provider_rate_limited', true, info.retryAfterMs);
  }
  if (status !== null && (status === 408 || status >= 500)) return mk('provider_overloaded', true, info.retryAfterMs);
  if (status !== null && status >= 400) return mk('provider_bad_request', false);
  if (has('overloaded_error', 'api_error', 'server_error', 'unavailable', 'internal', 'overloaded') || /overloaded/i.test(info.message)) {
    return mk('provider_overloaded', true, info.retryAfterMs);
  }
  if (has('invalid_request_error', 'invalid_prompt', 'invalid_argument', 'bad_request', 'not_found_error', 'not_found')) {
    return mk('provider_bad_request', false);
  }
  if (info.malformed) return mk('provider_stream', false);
  if (info.network) return mk('provider_stream', true);
  return mk('internal', false);
}

const AUTH_MESSAGE = /api key not valid|invalid x-api-key|incorrect api key|invalid api key/i;

/** Messages that mean "the prompt does not fit the model's context window", across providers. */
const CONTEXT_MESSAGE: RegExp[] = [
  /context[_ ]length[_ ]exceeded/i,
  /prompt is too long/i,
  /maximum context length/i,
  /exceeds? the context window/i,
  /context window (is )?exceeded/i,
  /exceeds the available context size/i,
  /input token count.*exceeds the maximum/i,
];

/** Network-level failures: the connection broke or the stream stopped early. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const NETWORK_MESSAGE = /terminated|other side closed|socket hang up|fetch failed|connection error|premature close|request timed out|network|incomplete json segment|response body is empty|no body/i;

interface ErrorInfo {
  status: number | null;
  codes: string[];
  message: string;
  retryAfterMs: number | null;
  network: boolean;
  malformed: boolean;
}

function describeError(err: unknown): ErrorInfo {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const rawMessage = err instanceof Error ? err.message : typeof err === 'string' ? err : safeStringify(err);
  const status = typeof e.status === 'number' && e.status > 0 ? e.status : null;
  const codes: string[] = [];
  const push = (v: unknown) => { if (typeof v === 'string' && v) codes.push(v); };
  push(e.code); push(e.type); push(e.errorCode);
  // The error body: OpenAI `{message, type, code}`, Anthropic `{type:"error", error:{type, message}}`.
  const body = e.error as Record<string, unknown> | undefined;
  if (body && typeof body === 'object') {
    push(body.code); push(body.type);
    const inner = body.error as Record<string, unknown> | undefined;
    if (inner && typeof inner === 'object') { push(inner.type); push(inner.code); }
  }
  // Gemini puts the JSON body in the message: `{"error":{"code":429,"message":…,"status":"RESOURCE_EXHAUSTED","details":[…]}}`.
  let message = rawMessage;
  let retryAfterMs = parseRetryAfterMs(e.headers);
  const google = parseGoogleErrorBody(rawMessage);
  if (google) {
    push(google.status);
    for (const r of google.reasons) push(r);
    if (google.message) message = status ? `${status} ${google.message}` : google.message;
    retryAfterMs ??= google.retryAfterMs;
  }
  let network = false;
  let malformed = err instanceof SyntaxError;
  for (let c: unknown = err, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    const ce = c as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof ce.code === 'string' && NETWORK_CODES.has(ce.code)) network = true;
    if (typeof ce.message === 'string' && NETWORK_MESSAGE.test(ce.message)) network = true;
    if (c instanceof SyntaxError || (typeof ce.message === 'string' && /exception parsing stream chunk|is not valid JSON|Unexpected token/i.test(ce.message))) malformed = true;
    if (ce.name === 'APIConnectionError' || ce.name === 'APIConnectionTimeoutError') network = true;
  }
  return { status, codes, message: message || 'provider error', retryAfterMs, network, malformed };
}

function parseGoogleErrorBody(message: string): { status: string | null; message: string | null; reasons: string[]; retryAfterMs: number | null } | null {
  const start = message.indexOf('{');
  if (start < 0) return null;
  let parsed: unknown;
  try { parsed = JSON.parse(message.slice(start)); } catch { return null; }
  const error = (parsed as { error?: unknown })?.error as Record<string, unknown> | undefined;
  if (!error || typeof error !== 'object') return null;
  const reasons: string[] = [];
  let retryAfterMs: number | null = null;
  for (const d of Array.isArray(error.details) ? error.details : []) {
    const detail = d as Record<string, unknown>;
    if (typeof detail.reason === 'string') reasons.push(detail.reason);
    if (typeof detail.retryDelay === 'string') retryAfterMs = parseDurationMs(detail.retryDelay);
  }
  return {
    status: typeof error.status === 'string' ? error.status : null,
    message: typeof error.message === 'string' ? error.message : null,
    reasons,
    retryAfterMs,
  };
}

/** `"12s"`, `"0.5s"` (protobuf Duration JSON) → milliseconds. */
function parseDurationMs(s: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(s);
  return m ? Math.round(Number(m[1]) * 1000) : null;
}

type HeaderBag = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

/**
 * Reads how long the provider asked us to wait: `retry-after-ms` (milliseconds, as OpenAI and
 * Anthropic send it), else `retry-after` (seconds or an HTTP date). Null when absent or invalid.
 */
export function parseRetryAfterMs(headers: unknown, now: number = Date.now()): number | null {
  if (!headers || typeof headers !== 'object') return null;
  const get = (name: string): string | null => {
    const h = headers as HeaderBag;
    if (typeof (h as { get?: unknown }).get === 'function') return (h as { get(n: string): string | null }).get(name);
    const rec = h as Record<string, string | string[] | undefined>;
    const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
    const v = key === undefined ? undefined : rec[key];
    return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
  };
  const ms = get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.round(n);
  }
  const ra = get('retry-after');
  if (ra !== null && ra.trim() !== '') {
    const n = Number(ra);
    if (Number.isFinite(n) && n >= 0) return Math.round(n * 1000);
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return null;
}

/** Key-shaped tokens (OpenAI `sk-…`, Anthropic `sk-ant-…`, Google `AIza…`) never leave in a message. */
const KEY_PATTERNS = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\bAIza[0-9A-Za-z_-]{20,}/g];

/** Removes the given secrets and anything that looks like an API key from `text`. */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('***');
  }
  for (const re of KEY_PATTERNS) out = out.replace(re, '***');
  return out;
}

function safeStringify(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}
