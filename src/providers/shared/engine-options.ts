import type { EngineSettings } from '../../inference/engine';

/** Reasoning / extended thinking, for the providers that have it (ignored by the others). */
export interface ThinkingOptions {
  /** Anthropic `thinking.budget_tokens` (≥ 1024), Gemini `thinkingBudget`. */
  budgetTokens?: number;
  /** OpenAI Responses `reasoning.effort`. */
  effort?: 'minimal' | 'low' | 'medium' | 'high';
}

/** Constructor options shared by every provider engine. */
export interface ProviderEngineOptions {
  model: string;
  apiKey: string;
  /** Another endpoint (a proxy, a gateway, an OpenAI-compatible server); the SDK default otherwise. */
  baseURL?: string;
  temperature?: number;
  maxOutputTokens?: number;
  /** Our retries before the first content chunk (default 2). The SDK's own retries are off. */
  maxRetries?: number;
  /** Base of the retry backoff in ms (default 500). */
  retryBackoffMs?: number;
  /** The fetch the SDK uses (tests, proxies). */
  fetch?: typeof globalThis.fetch;
  /** Ask for reasoning / thinking output where the API offers it. */
  thinking?: ThinkingOptions;
  /** A request with no stream event this long after it was sent fails with `provider_stream` (default 60 000). */
  firstByteTimeoutMs?: number;
  /** A stream with no event this long after the previous one fails with `provider_stream` (default 60 000). */
  idleTimeoutMs?: number;
}

/** Per-run settings win over the constructor's defaults; null/undefined means "not set". */
export function resolveSettings(
  ctor: Pick<ProviderEngineOptions, 'temperature' | 'maxOutputTokens'>,
  settings: EngineSettings | undefined,
): { temperature: number | undefined; maxOutputTokens: number | undefined } {
  return {
    temperature: settings?.temperature ?? ctor.temperature ?? undefined,
    maxOutputTokens: settings?.maxOutputTokens ?? ctor.maxOutputTokens ?? undefined,
  };
}

/**
 * Stop reasons in one vocabulary for every provider: `stop`, `length`, `tool_calls`,
 * `content_filter`; anything else passes through lower-cased.
 */
export type StopReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | (string & {});
