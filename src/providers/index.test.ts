import { describe, expect, it } from 'vitest';
import { AnthropicEngine, createEngine, GeminiEngine, OpenAIChatEngine, OpenAIResponsesEngine, PROVIDER_NAMES, type ProviderName } from './index';

describe('createEngine', () => {
  it('builds the engine of each provider, named after it', () => {
    const classes: Record<ProviderName, unknown> = {
      openai: OpenAIChatEngine, 'openai-responses': OpenAIResponsesEngine, anthropic: AnthropicEngine, gemini: GeminiEngine,
    };
    for (const provider of PROVIDER_NAMES) {
      const e = createEngine({ provider, model: 'm', apiKey: 'k', baseURL: 'http://127.0.0.1:9' });
      expect(e).toBeInstanceOf(classes[provider] as new (...a: never[]) => unknown);
      expect(e.name).toBe(provider);
      expect(e.model).toBe('m');
    }
  });

  it('rejects an unknown provider', () => {
    expect(() => createEngine({ provider: 'nope' as ProviderName, model: 'm', apiKey: 'k' })).toThrow(/unknown provider/);
  });
});
