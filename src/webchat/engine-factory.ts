import type { Engine } from '../inference/engine';
import { createEngine } from '../providers';
import { DemoEngine } from '../providers/demo/demo-engine';
import type { RuntimeProfile } from './runtime-profile';

/**
 * The key sent to a keyless server (a profile with `base_url` and no `api_key_env`, e.g. Ollama):
 * the SDKs refuse to build a client without one, and such servers ignore it.
 */
export const KEYLESS_API_KEY = 'keyless-local-server';

/** Creates the base engine of a profile. Keys are read from the env var the profile names. */
export function engineForProfile(p: RuntimeProfile, env: NodeJS.ProcessEnv = process.env): Engine {
  if (p.provider === 'demo') return new DemoEngine({ model: p.model, ...(p.chunkDelayMs !== null ? { chunkDelayMs: p.chunkDelayMs } : {}) });
  let apiKey = KEYLESS_API_KEY;
  if (p.apiKeyEnv) {
    apiKey = env[p.apiKeyEnv] ?? '';
    // Named, never shown: the message carries the variable's name only.
    if (!apiKey) throw new Error(`profile "${p.slug}": the environment variable ${p.apiKeyEnv} (its API key) is not set`);
  }
  return createEngine({
    provider: p.provider,
    model: p.model,
    apiKey,
    ...(p.baseUrl ? { baseURL: p.baseUrl } : {}),
    ...(p.temperature !== null ? { temperature: p.temperature } : {}),
    ...(p.maxOutputTokens !== null ? { maxOutputTokens: p.maxOutputTokens } : {}),
    ...(p.thinking ? { thinking: p.thinking } : {}),
    firstByteTimeoutMs: p.firstByteTimeoutMs,
    idleTimeoutMs: p.idleTimeoutMs,
  } as Parameters<typeof createEngine>[0]);
}
