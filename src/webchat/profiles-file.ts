import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { validateMiddlewareOptions } from '../inference/middlewares';
import { BusyPolicy, OVERRIDE_KEYS } from '../protocol/http';
import { DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, MAX_TIMEOUT_MS } from '../providers/shared/stream-watchdog';
import { DEMO_PROFILE, type RuntimeProfile } from './runtime-profile';

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'slug: lower-case letters, digits, - and _ (max 64)');
const EnvName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable NAME (never the key itself)');

const ToolEntry = z.union([
  z.string(),
  z.object({ name: z.string(), approval: z.enum(['required', 'none']).default('none') }).strict(),
]);
const MiddlewareEntry = z.union([z.string(), z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).default({}) }).strict()]);

/** One profile in the file (snake_case, like every user-facing config). */
export const ProfileEntrySchema = z
  .object({
    slug: Slug,
    display_name: z.string().min(1).optional(),
    description: z.string().default(''),
    provider: z.enum(['demo', 'openai', 'openai-responses', 'anthropic', 'gemini']),
    model: z.string().min(1).optional(),
    base_url: z.string().url().nullable().default(null),
    api_key_env: EnvName.nullable().default(null),
    temperature: z.number().min(0).max(2).nullable().default(null),
    max_output_tokens: z.number().int().positive().nullable().default(null),
    context_budget: z.number().int().positive().nullable().default(null),
    system_prompt: z.string().default(''),
    middlewares: z.array(MiddlewareEntry).default([]),
    tools: z.array(ToolEntry).default(['calc', 'get_time']),
    step_mode: z.boolean().default(false),
    step_timeout_ms: z.number().int().positive().default(30_000),
    approval_timeout_ms: z.number().int().positive().default(120_000),
    busy_policy: BusyPolicy.default('queue'),
    allow_overrides: z.array(z.enum(OVERRIDE_KEYS)).default([]),
    max_iterations: z.number().int().min(1).max(50).default(5),
    chunk_delay_ms: z.number().int().min(0).nullable().default(null),
    // A stalled provider: nothing streamed this long after the request / after the previous event → provider_stream.
    first_byte_timeout_ms: z.number().int().positive().max(MAX_TIMEOUT_MS).default(DEFAULT_FIRST_BYTE_TIMEOUT_MS),
    idle_timeout_ms: z.number().int().positive().max(MAX_TIMEOUT_MS).default(DEFAULT_IDLE_TIMEOUT_MS),
    thinking: z
      .object({ budget_tokens: z.number().int().min(1024).optional(), effort: z.enum(['minimal', 'low', 'medium', 'high']).optional() })
      .strict()
      .nullable()
      .default(null),
  })
  .strict()
  .refine((p) => p.provider === 'demo' || !!p.api_key_env || !!p.base_url, {
    message: 'a provider profile needs api_key_env (the NAME of the env var holding the key) or a base_url (a keyless local server)',
  });

export const ProfilesFileSchema = z
  .object({
    default: Slug.optional(),
    profiles: z.array(ProfileEntrySchema).min(1),
  })
  .strict();

const DEFAULT_MODELS: Record<string, string> = {
  demo: 'demo-1',
  openai: 'gpt-4.1-mini',
  'openai-responses': 'gpt-4.1-mini',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
};

export class ProfilesConfigError extends Error {
  readonly code = 'invalid_profiles';
}

/** Checks that every tool a profile names is known (called with the tool catalog's names). */
export function checkTools(profiles: RuntimeProfile[], known: readonly string[]): void {
  for (const p of profiles) {
    const unknown = [...p.tools, ...p.approvalTools].filter((t) => !known.includes(t));
    if (unknown.length) throw new ProfilesConfigError(`profile "${p.slug}": unknown tool(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
  }
}

/** Settings a provider cannot honour: refused at start rather than silently ignored. */
function checkProviderSettings(e: z.infer<typeof ProfileEntrySchema>): void {
  if (e.provider !== 'anthropic') return;
  // The Anthropic API version the SDK speaks (2026-10-21) rejects sampling parameters, so the engine never sends them.
  const why = 'the Anthropic API version this server speaks rejects sampling parameters';
  if (e.temperature !== null) throw new Error(`temperature: not supported with provider "anthropic" (${why}); remove "temperature" from this profile`);
  if (e.allow_overrides.includes('temperature')) {
    throw new Error(`allow_overrides: "temperature" is not supported with provider "anthropic" (${why}); remove it from allow_overrides`);
  }
}

function toProfile(e: z.infer<typeof ProfileEntrySchema>): RuntimeProfile {
  checkProviderSettings(e);
  const middlewares = e.middlewares.map((m) => (typeof m === 'string' ? { name: m, options: {} } : m));
  for (const m of middlewares) validateMiddlewareOptions(m.name, m.options);
  const tools = e.tools.map((t) => (typeof t === 'string' ? { name: t, approval: 'none' } : t));
  const middlewareList = e.context_budget && !middlewares.some((m) => m.name === 'history-trim')
    ? [...middlewares, { name: 'history-trim', options: { max_tokens: e.context_budget } }]
    : middlewares;
  return {
    slug: e.slug,
    displayName: e.display_name ?? e.slug,
    description: e.description,
    provider: e.provider,
    model: e.model ?? DEFAULT_MODELS[e.provider]!,
    baseUrl: e.base_url,
    apiKeyEnv: e.api_key_env,
    temperature: e.temperature,
    maxOutputTokens: e.max_output_tokens,
    contextBudget: e.context_budget,
    systemPrompt: e.system_prompt,
    middlewares: middlewareList,
    tools: tools.map((t) => t.name),
    approvalTools: tools.filter((t) => t.approval === 'required').map((t) => t.name),
    stepMode: e.step_mode,
    stepTimeoutMs: e.step_timeout_ms,
    approvalTimeoutMs: e.approval_timeout_ms,
    busyPolicy: e.busy_policy,
    allowOverrides: e.allow_overrides,
    maxIterations: e.max_iterations,
    chunkDelayMs: e.chunk_delay_ms,
    firstByteTimeoutMs: e.first_byte_timeout_ms,
    idleTimeoutMs: e.idle_timeout_ms,
    thinking: e.thinking ? { ...(e.thinking.budget_tokens ? { budgetTokens: e.thinking.budget_tokens } : {}), ...(e.thinking.effort ? { effort: e.thinking.effort } : {}) } : null,
  };
}

/** Parses and validates a profiles document (YAML or JSON text); errors name the path. */
export function parseProfiles(text: string, source = 'profiles'): { profiles: RuntimeProfile[]; defaultSlug: string | null } {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new ProfilesConfigError(`${source}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  const r = ProfilesFileSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ProfilesConfigError(`${source}: invalid profiles file:\n${lines.join('\n')}`);
  }
  const seen = new Set<string>();
  const profiles: RuntimeProfile[] = [];
  for (const e of r.data.profiles) {
    if (seen.has(e.slug)) throw new ProfilesConfigError(`${source}: duplicate profile slug "${e.slug}"`);
    seen.add(e.slug);
    try {
      profiles.push(toProfile(e));
    } catch (err) {
      throw new ProfilesConfigError(`${source}: profile "${e.slug}": ${(err as Error).message}`);
    }
  }
  const def = r.data.default ?? null;
  if (def && !seen.has(def) && def !== 'demo') throw new ProfilesConfigError(`${source}: default profile "${def}" is not defined`);
  return { profiles, defaultSlug: def };
}

export function loadProfilesFile(path: string): { profiles: RuntimeProfile[]; defaultSlug: string | null } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfilesConfigError(`cannot read profiles file ${path}: ${(err as Error).message}`);
  }
  return parseProfiles(text, path);
}

/**
 * Ready profiles from the SDKs' standard environment (D14): a key adds a profile of the same
 * slug (`openai` = Chat Completions); base URLs are honoured so a proxy or gateway works. They
 * never become the default.
 */
export function readyProfilesFromEnv(env: NodeJS.ProcessEnv): RuntimeProfile[] {
  const out: RuntimeProfile[] = [];
  const base = { ...DEMO_PROFILE, allowOverrides: [] as string[], chunkDelayMs: null };
  const add = (slug: string, provider: RuntimeProfile['provider'], keyEnv: string, baseEnv: string | null, modelEnv: string, label: string) => {
    if (!env[keyEnv]) return;
    out.push({
      ...base, slug, provider, displayName: label, description: `${label} (from ${keyEnv})`,
      model: env[modelEnv] || DEFAULT_MODELS[provider]!, apiKeyEnv: keyEnv, baseUrl: (baseEnv && env[baseEnv]) || null,
    });
  };
  add('openai', 'openai', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'OpenAI (Chat Completions)');
  add('openai-responses', 'openai-responses', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'OpenAI (Responses)');
  add('anthropic', 'anthropic', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL', 'Anthropic');
  add('gemini', 'gemini', 'GEMINI_API_KEY', null, 'GEMINI_MODEL', 'Gemini');
  return out;
}

/**
 * The server's profiles: `demo` always, the env's ready profiles, then the file's (a file entry
 * replaces a built-in of the same slug). Default: the file's `default`, else `demo` (D14).
 */
export function resolveProfiles(opts: { file?: string | null; env: NodeJS.ProcessEnv }): { profiles: RuntimeProfile[]; defaultSlug: string } {
  const bySlug = new Map<string, RuntimeProfile>([[DEMO_PROFILE.slug, DEMO_PROFILE]]);
  for (const p of readyProfilesFromEnv(opts.env)) bySlug.set(p.slug, p);
  let defaultSlug = DEMO_PROFILE.slug;
  if (opts.file) {
    const f = loadProfilesFile(opts.file);
    for (const p of f.profiles) bySlug.set(p.slug, p);
    if (f.defaultSlug) defaultSlug = f.defaultSlug;
  }
  return { profiles: [...bySlug.values()], defaultSlug };
}
