import type { Engine } from '../inference/engine';
import { AnthropicEngine } from './anthropic/anthropic-engine';
import { GeminiEngine } from './gemini/gemini-engine';
import { OpenAIChatEngine } from './openai-chat/openai-chat-engine';
import { OpenAIResponsesEngine } from './openai-responses/openai-responses-engine';
import type { ProviderEngineOptions } from './shared/engine-options';

export { OpenAIChatEngine, type OpenAIChatEngineOptions } from './openai-chat/openai-chat-engine';
export { OpenAIResponsesEngine, type OpenAIResponsesEngineOptions } from './openai-responses/openai-responses-engine';
export { AnthropicEngine, type AnthropicEngineOptions } from './anthropic/anthropic-engine';
export { GeminiEngine, type GeminiEngineOptions } from './gemini/gemini-engine';
export type { ProviderEngineOptions, ThinkingOptions, StopReason } from './shared/engine-options';
export { classifyProviderError, parseRetryAfterMs, redactSecrets } from './shared/errors';
export { withProviderRetry, DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BACKOFF_MS, MAX_RETRY_AFTER_MS } from './shared/retry';

/** Provider names of the real-model engines (profiles also know `demo`, built elsewhere). */
export const PROVIDER_NAMES = ['openai', 'openai-responses', 'anthropic', 'gemini'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderConfig extends ProviderEngineOptions {
  provider: ProviderName;
}

/** Builds the engine of a provider. `openai` = Chat Completions (also any OpenAI-compatible server via `baseURL`). */
export function createEngine(config: ProviderConfig): Engine {
  const { provider, ...opts } = config;
  switch (provider) {
    case 'openai':
      return new OpenAIChatEngine(opts);
    case 'openai-responses':
      return new OpenAIResponsesEngine(opts);
    case 'anthropic':
      return new AnthropicEngine(opts);
    case 'gemini':
      return new GeminiEngine(opts);
    default:
      throw new Error(`unknown provider: ${String(provider)}`);
  }
}
