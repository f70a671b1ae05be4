import { describe, expect, it } from 'vitest';
import { checkTools, parseProfiles, ProfilesConfigError, readyProfilesFromEnv, resolveProfiles } from './profiles-file';
import { ProfileRegistry } from './profile-registry';
import { runtimeFingerprint } from './runtime-profile';

const YAML = `
default: assistant
profiles:
  - slug: assistant
    display_name: Assistant
    provider: openai
    model: gpt-4.1-mini
    api_key_env: MY_OPENAI_KEY
    system_prompt: You are helpful.
    middlewares: [tool-result-reorder, { name: history-trim, options: { max_tokens: 8000 } }]
    tools: [calc, { name: get_time, approval: required }]
    step_mode: true
    busy_policy: reject
    allow_overrides: [temperature]
    thinking: { effort: low }
  - slug: local
    provider: openai
    base_url: http://127.0.0.1:11434/v1
    model: llama3
`;

describe('profiles file', () => {
  it('parses YAML with every field, defaults the rest', () => {
    const { profiles, defaultSlug } = parseProfiles(YAML);
    expect(defaultSlug).toBe('assistant');
    const a = profiles[0]!;
    expect(a).toMatchObject({
      slug: 'assistant', displayName: 'Assistant', provider: 'openai', apiKeyEnv: 'MY_OPENAI_KEY', systemPrompt: 'You are helpful.',
      tools: ['calc', 'get_time'], approvalTools: ['get_time'], stepMode: true, busyPolicy: 'reject', allowOverrides: ['temperature'],
      stepTimeoutMs: 30000, approvalTimeoutMs: 120000, maxIterations: 5, thinking: { effort: 'low' },
    });
    expect(a.middlewares).toEqual([{ name: 'tool-result-reorder', options: {} }, { name: 'history-trim', options: { max_tokens: 8000 } }]);
    expect(profiles[1]).toMatchObject({ slug: 'local', baseUrl: 'http://127.0.0.1:11434/v1', apiKeyEnv: null, displayName: 'local' });
  });

  it('stall timeouts: 60 s each by default, set per profile, part of the runtime fingerprint', () => {
    const { profiles } = parseProfiles('profiles: [{slug: a, provider: demo}, {slug: b, provider: openai, base_url: "http://127.0.0.1:9/v1", first_byte_timeout_ms: 120000, idle_timeout_ms: 15000}]');
    expect(profiles[0]).toMatchObject({ firstByteTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    expect(profiles[1]).toMatchObject({ firstByteTimeoutMs: 120_000, idleTimeoutMs: 15_000 });
    expect(runtimeFingerprint({ profile: profiles[1]!, overrides: null }))
      .not.toBe(runtimeFingerprint({ profile: { ...profiles[1]!, idleTimeoutMs: 16_000 }, overrides: null }));
  });

  it('JSON works too (YAML superset)', () => {
    const { profiles } = parseProfiles(JSON.stringify({ profiles: [{ slug: 'd', provider: 'demo' }] }));
    expect(profiles[0]!.provider).toBe('demo');
  });

  it.each([
    ['not yaml: [', /not valid YAML/],
    ['profiles: []', /profiles: /],
    ['profiles: [{slug: a, provider: openai}]', /api_key_env/],
    ['profiles: [{slug: a, provider: nope}]', /profiles\.0\.provider/],
    ['profiles: [{slug: a, provider: demo, api_key: sk-123}]', /api_key/],
    ['profiles: [{slug: a, provider: demo, api_key_env: sk-live-abc}]', /api_key_env/],
    ['profiles: [{slug: a, provider: demo}, {slug: a, provider: demo}]', /duplicate profile slug "a"/],
    ['profiles: [{slug: a, provider: anthropic, api_key_env: K, thinking: {budget_tokens: 10}}]', /budget_tokens/],
    ['profiles: [{slug: a, provider: demo, middlewares: [nope]}]', /unknown middleware "nope"/],
    ['profiles: [{slug: a, provider: demo, middlewares: [history-trim]}]', /max_tokens/],
    ['default: zzz\nprofiles: [{slug: a, provider: demo}]', /default profile "zzz" is not defined/],
    ['profiles: [{slug: a, provider: demo, first_byte_timeout_ms: 0}]', /profiles\.0\.first_byte_timeout_ms/],
    ['profiles: [{slug: a, provider: demo, first_byte_timeout_ms: 2.5}]', /profiles\.0\.first_byte_timeout_ms/],
    ['profiles: [{slug: a, provider: demo, first_byte_timeout_ms: "60s"}]', /profiles\.0\.first_byte_timeout_ms/],
    ['profiles: [{slug: a, provider: demo, idle_timeout_ms: -1}]', /profiles\.0\.idle_timeout_ms/],
    ['profiles: [{slug: a, provider: demo, idle_timeout_ms: 2147483648}]', /profiles\.0\.idle_timeout_ms/],
    ['profiles: [{slug: a, provider: demo, idle_timeout_ms: null}]', /profiles\.0\.idle_timeout_ms/],
  ])('rejects %s with a clear message', (text, re) => {
    expect(() => parseProfiles(text)).toThrow(ProfilesConfigError);
    expect(() => parseProfiles(text)).toThrow(re);
  });

  it('unknown tools are rejected against the catalog', () => {
    const { profiles } = parseProfiles('profiles: [{slug: a, provider: demo, tools: [calc, launch_missiles]}]');
    expect(() => checkTools(profiles, ['calc', 'get_time'])).toThrow(/unknown tool\(s\) launch_missiles/);
  });

  it('ready profiles come from the SDK env vars, never the default, and no secret shows in the list', () => {
    const env = { OPENAI_API_KEY: 'sk-secret-1', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', ANTHROPIC_API_KEY: 'sk-ant-secret', GEMINI_API_KEY: 'g-secret' };
    const ready = readyProfilesFromEnv(env);
    expect(ready.map((p) => p.slug)).toEqual(['openai', 'openai-responses', 'anthropic', 'gemini']);
    expect(ready[0]).toMatchObject({ provider: 'openai', apiKeyEnv: 'OPENAI_API_KEY', baseUrl: 'http://127.0.0.1:9/v1' });
    const { profiles, defaultSlug } = resolveProfiles({ env });
    expect(defaultSlug).toBe('demo');
    const list = new ProfileRegistry(profiles, defaultSlug).list();
    const text = JSON.stringify(list) + JSON.stringify(profiles);
    for (const secret of Object.values(env).filter((v) => v.includes('secret'))) expect(text).not.toContain(secret);
    expect(list.find((p) => p.is_default)!.slug).toBe('demo');
  });
});
