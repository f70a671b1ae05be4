import { createHash } from 'node:crypto';
import type { BusyPolicy, RequestOverrides } from '../protocol/http';
import { DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS } from '../providers/shared/stream-watchdog';

export type ProviderName = 'demo' | 'openai' | 'openai-responses' | 'anthropic' | 'gemini';

/** A profile (runtime.md "Profiles"): everything that shapes a run, secrets by env var name only. */
export interface RuntimeProfile {
  slug: string;
  displayName: string;
  description: string;
  provider: ProviderName;
  model: string;
  baseUrl: string | null;
  /** Name of the env var holding the API key (never the key itself). */
  apiKeyEnv: string | null;
  temperature: number | null;
  maxOutputTokens: number | null;
  contextBudget: number | null;
  systemPrompt: string;
  middlewares: { name: string; options: Record<string, unknown> }[];
  tools: string[];
  approvalTools: string[];
  stepMode: boolean;
  stepTimeoutMs: number;
  approvalTimeoutMs: number;
  busyPolicy: BusyPolicy;
  allowOverrides: string[];
  maxIterations: number;
  /** demo only: delay between chunks. */
  chunkDelayMs: number | null;
  /** Provider engines: the request fails with `provider_stream` when no stream event came this long after it was sent. */
  firstByteTimeoutMs: number;
  /** Provider engines: the request fails with `provider_stream` when no stream event came this long after the previous one. */
  idleTimeoutMs: number;
  /** Ask for reasoning output where the API offers it (Anthropic/Gemini budget, Responses effort). */
  thinking: { budgetTokens?: number; effort?: 'minimal' | 'low' | 'medium' | 'high' } | null;
}

/** A prompt's runtime: the profile snapshot it was accepted with plus its request overrides. */
export interface PromptRuntime {
  profile: RuntimeProfile;
  overrides: RequestOverrides | null;
}

export const DEMO_PROFILE: RuntimeProfile = {
  slug: 'demo',
  displayName: 'Demo (offline)',
  description: 'Offline scripted engine: streams text and calls the calc tool. No model, no network.',
  provider: 'demo',
  model: 'demo-1',
  baseUrl: null,
  apiKeyEnv: null,
  temperature: null,
  maxOutputTokens: null,
  contextBudget: null,
  systemPrompt: '',
  middlewares: [],
  tools: ['calc', 'get_time'],
  approvalTools: [],
  stepMode: false,
  stepTimeoutMs: 30_000,
  approvalTimeoutMs: 120_000,
  busyPolicy: 'queue',
  allowOverrides: ['system_prompt', 'step_mode', 'busy_policy', 'temperature'],
  maxIterations: 5,
  chunkDelayMs: null,
  firstByteTimeoutMs: DEFAULT_FIRST_BYTE_TIMEOUT_MS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  thinking: null,
};

/**
 * Hash of everything that shapes a run (never secrets: only the env var *name* of a key). A
 * different fingerprint rebuilds the engine builder for the next run.
 */
export function runtimeFingerprint(r: PromptRuntime): string {
  const p = r.profile;
  const shaping = {
    provider: p.provider, model: p.model, baseUrl: p.baseUrl, apiKeyEnv: p.apiKeyEnv, temperature: r.overrides?.temperature ?? p.temperature,
    maxOutputTokens: p.maxOutputTokens, contextBudget: p.contextBudget, systemPrompt: r.overrides?.system_prompt ?? p.systemPrompt,
    middlewares: p.middlewares, tools: p.tools, approvalTools: p.approvalTools, maxIterations: p.maxIterations, chunkDelayMs: p.chunkDelayMs, thinking: p.thinking,
    firstByteTimeoutMs: p.firstByteTimeoutMs, idleTimeoutMs: p.idleTimeoutMs,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 16);
}
