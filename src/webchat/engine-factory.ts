import type { Engine } from '../inference/engine';
import { createEngine } from '../providers';
import { DemoEngine } from '../providers/demo/demo-engine';
import type { RuntimeProfile } from './runtime-profile';

/** Creates the base engine of a profile. Keys are read from the env var the profile names. */
export function engineForProfile(p: RuntimeProfile, env: NodeJS.ProcessEnv = process.env): Engine {
  if (p.provider === 'demo') return new DemoEngine({ model: p.model, ...(p.chunkDelayMs !== null ? { chunkDelayMs: p.chunkDelayMs } : {}) });
  const apiKey = p.apiKeyEnv ? env[p.apiKeyEnv] ?? '' : '';
  return createEngine({
    provider: p.provider,
    model: p.model,
    apiKey,
    ...(p.baseUrl ? { baseURL: p.baseUrl } : {}),
    ...(p.temperature !== null ? { temperature: p.temperature } : {}),
    ...(p.maxOutputTokens !== null ? { maxOutputTokens: p.maxOutputTokens } : {}),
  } as Parameters<typeof createEngine>[0]);
}
