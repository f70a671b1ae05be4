import { describe, expect, it } from 'vitest';
import { APIConnectionError, APIError as OpenAIAPIError } from 'openai';
import { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import { ProviderError } from '../../inference/errors';
import { classifyProviderError, parseRetryAfterMs, redactSecrets } from './errors';

const openai = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  OpenAIAPIError.generate(status, { error: body }, undefined, new Headers(headers));
const anthropic = (status: number | undefined, type: string, message: string, headers?: Record<string, string>) =>
  new AnthropicAPIError(status, { type: 'error', error: { type, message } }, undefined, headers ? new Headers(headers) : undefined);
const gemini = (status: number, body: Record<string, unknown>) =>
  Object.assign(new Error(JSON.stringify({ error: body })), { name: 'ApiError', status });
const net = (code: string, message: string) => Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error(message), { code }) });

describe('classifyProviderError', () => {
  const cases: [string, unknown, string, boolean][] = [
    ['openai 401', openai(401, { message: 'Incorrect API key', code: 'invalid_api_key' }), 'provider_auth', false],
    ['openai 403', openai(403, { message: 'not allowed' }), 'provider_auth', false],
    ['openai 429', openai(429, { message: 'slow down', code: 'rate_limit_exceeded' }), 'provider_rate_limited', true],
    ['openai 429 insufficient_quota', openai(429, { message: 'You exceeded your current quota', code: 'insufficient_quota' }), 'provider_bad_request', false],
    ['openai 500', openai(500, { message: 'oops', type: 'server_error' }), 'provider_overloaded', true],
    ['openai 503', openai(503, { message: 'overloaded' }), 'provider_overloaded', true],
    ['openai 408', openai(408, { message: 'timeout' }), 'provider_overloaded', true],
    ['openai 400 context code', openai(400, { message: 'too long', code: 'context_length_exceeded' }), 'context_length_exceeded', false],
    ['vllm 400 maximum context length', openai(400, { message: "This model's maximum context length is 4096 tokens." }), 'context_length_exceeded', false],
    ['llama.cpp 400 context size', openai(400, { message: 'the request exceeds the available context size, try increasing it' }), 'context_length_exceeded', false],
    ['openai 400 other', openai(400, { message: "Invalid value for 'temperature'" }), 'provider_bad_request', false],
    ['openai 404 model', openai(404, { message: 'The model `x` does not exist' }), 'provider_bad_request', false],
    ['openai in-stream error', new OpenAIAPIError(undefined, { message: 'boom', type: 'server_error' }, undefined, undefined), 'provider_overloaded', true],
    ['openai connection error', new APIConnectionError({ cause: new TypeError('fetch failed') }), 'provider_stream', true],
    ['anthropic 529', anthropic(529, 'overloaded_error', 'Overloaded'), 'provider_overloaded', true],
    ['anthropic prompt too long', anthropic(400, 'invalid_request_error', 'prompt is too long: 208310 tokens > 200000 maximum'), 'context_length_exceeded', false],
    ['anthropic in-stream overloaded', anthropic(undefined, 'overloaded_error', 'Overloaded'), 'provider_overloaded', true],
    ['anthropic in-stream rate limit', anthropic(undefined, 'rate_limit_error', 'slow'), 'provider_rate_limited', true],
    ['gemini 429', gemini(429, { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' }), 'provider_rate_limited', true],
    ['gemini 503', gemini(503, { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' }), 'provider_overloaded', true],
    ['gemini bad key (400)', gemini(400, { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] }), 'provider_auth', false],
    ['gemini context', gemini(400, { code: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' }), 'context_length_exceeded', false],
    ['responses window', Object.assign(new Error('Your input exceeds the context window of this model.'), { code: 'context_length_exceeded' }), 'context_length_exceeded', false],
    ['socket closed mid-stream', net('UND_ERR_SOCKET', 'other side closed'), 'provider_stream', true],
    ['connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'provider_stream', true],
    ['malformed JSON', new SyntaxError('Unexpected end of JSON input'), 'provider_stream', false],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')"), 'internal', false],
  ];
  for (const [name, err, code, retryable] of cases) {
    it(`${name} → ${code}${retryable ? ' (retryable)' : ''}`, () => {
      const pe = classifyProviderError(err);
      expect(pe).toBeInstanceOf(ProviderError);
      expect(pe.code).toBe(code);
      expect(pe.retryable).toBe(retryable);
    });
  }

  it('keeps the HTTP status and the retry-after of the response', () => {
    const pe = classifyProviderError(openai(429, { message: 'x' }, { 'retry-after': '2' }));
    expect(pe.opts.status).toBe(429);
    expect(pe.opts.retryAfterMs).toBe(2000);
    const g = classifyProviderError(gemini(429, { code: 429, message: 'q', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] }));
    expect(g.opts.retryAfterMs).toBe(1500);
    expect(g.message).toBe('429 q');
  });

  it('never lets the API key through', () => {
    const pe = classifyProviderError(openai(401, { message: 'Incorrect API key provided: my-secret-key-1234.' }), { secrets: ['my-secret-key-1234'] });
    expect(pe.message).not.toContain('my-secret-key-1234');
    expect(pe.message).toContain('***');
  });

  it('passes a ProviderError through', () => {
    const pe = new ProviderError('provider_stream', 'x');
    expect(classifyProviderError(pe)).toBe(pe);
  });
});

describe('parseRetryAfterMs', () => {
  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    expect(parseRetryAfterMs(new Headers({ 'retry-after-ms': '250.4', 'retry-after': '9' }))).toBe(250);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs({ 'Retry-After': 'Thu, 01 Jan 2026 00:00:05 GMT' }, now)).toBe(5000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeNull();
    expect(parseRetryAfterMs(undefined)).toBeNull();
  });
});

describe('redactSecrets', () => {
  it('removes given secrets and key-shaped tokens', () => {
    expect(redactSecrets('key abcd1234 used', ['abcd1234'])).toBe('key *** used');
    expect(redactSecrets('sk-proj-AbCdEf0123456789 and AIzaSyA1234567890abcdefghijk')).toBe('*** and ***');
  });
});
