/**
 * Issue 7, profiles: `GET /api/chat/profiles` lists the file's profiles, `demo` and the ready
 * profiles of the SDKs' environment (never default); a ready profile really works (its base URL
 * from the environment); the file's `default` wins over `demo`; bad files are refused at start
 * with a clear message (Anthropic + temperature, a key pasted where its env var name goes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReplayServer } from '../../src/providers/testing/replay-server';
import { main } from '../../src/server/cli';
import { KEYLESS_API_KEY } from '../../src/webchat/engine-factory';
import { parseProfiles } from '../../src/webchat/profiles-file';
import { assertNoSecrets, E2E, fixture, ofType, profileFor, provider, PROVIDERS, received, USAGE } from './harness';

const READY_KEY = 'sk-test-SECRET-ready-openai-7a1b';
const openai = provider('openai');
const anthropic = provider('anthropic');

afterAll(() => assertNoSecrets(received, [...PROVIDERS.map((p) => p.key), READY_KEY]));

describe('with OPENAI_API_KEY in the environment', () => {
  let e2e: E2E;
  let ready: ReplayServer;
  beforeAll(async () => {
    ready = await ReplayServer.start();
    e2e = await E2E.start({ env: { OPENAI_API_KEY: READY_KEY, OPENAI_BASE_URL: `${ready.url}/v1`, OPENAI_MODEL: openai.wire.model } });
  });
  afterEach(() => {
    e2e.assertReplaysClean();
    ready.assertClean();
  });
  afterAll(async () => {
    await e2e?.close();
    await ready?.close();
    expect(process.env.OPENAI_API_KEY).toBeUndefined();
  });

  it('lists the file profiles, demo (default) and the ready openai / openai-responses profiles', async () => {
    const r = await e2e.api.get('/api/chat/profiles');
    expect(r.status).toBe(200);
    const list: any[] = r.json;
    const slugs = list.map((p) => p.slug);
    expect(slugs).toEqual([...slugs].sort());
    expect(slugs).toEqual(['demo', 'e2e-anthropic', 'e2e-gemini', 'e2e-openai', 'e2e-openai-responses', 'openai', 'openai-responses']);
    for (const p of list) expect(Object.keys(p).sort()).toEqual(['description', 'display_name', 'is_default', 'model', 'offline', 'provider', 'slug']);
    const by = (slug: string) => list.find((p) => p.slug === slug);
    expect(by('demo')).toMatchObject({ provider: 'demo', model: 'demo-1', offline: true, is_default: true });
    for (const p of PROVIDERS) {
      expect(by(p.slug)).toMatchObject({ provider: p.id, model: p.wire.model, offline: false, is_default: false, display_name: `E2E ${p.id}` });
    }
    expect(by('openai')).toMatchObject({ provider: 'openai', model: openai.wire.model, offline: false, is_default: false });
    expect(by('openai-responses')).toMatchObject({ provider: 'openai-responses', offline: false, is_default: false });
    expect(list.filter((p) => p.is_default)).toHaveLength(1);
    expect(r.text).not.toMatch(/api_key|E2E_[A-Z_]*KEY|OPENAI_API_KEY=|127\.0\.0\.1/); // no key, no key name, no base URL
    expect((await e2e.api.get('/api/chat/profile')).json).toEqual({ slug: 'demo' });
  });

  it('the ready openai profile runs against OPENAI_BASE_URL with OPENAI_API_KEY', async () => {
    ready.push({
      name: 'ready openai',
      chunks: openai.wire.text(['ready ', 'profile'], USAGE),
      check: (req) => {
        openai.wire.checkTransport(req, READY_KEY);
        expect(openai.wire.summarize(req).messages).toEqual([{ role: 'user', text: 'hello ready' }]);
      },
    });
    const c = await e2e.conversation();
    const { frames, end, started } = await e2e.run(c, 'hello ready', 'openai');
    expect(started.runtime_key).toBe('openai');
    expect(end.event.data).toMatchObject({ status: 'completed', usage: USAGE });
    expect(ofType(frames, 'llm.final')[0]!.event.data.text).toBe('ready profile');
    expect(ready.requests).toHaveLength(1);
  });

  it('no runtime_key and no cookie → the default (demo, offline): no provider is called', async () => {
    e2e.mark();
    const c = await e2e.conversation();
    const { end, started } = await e2e.run(c, 'hello');
    expect(started.runtime_key).toBe('demo');
    expect(end.event.data.status).toBe('completed');
    for (const p of PROVIDERS) expect(e2e.requestsSince(p)).toHaveLength(0);
  });

  it('unknown profiles are refused with 404 unknown_profile', async () => {
    const chat = await e2e.api.chat({ prompt: 'x', runtime_key: 'no-such' });
    expect(chat.status).toBe(404);
    expect(chat.json.error.code).toBe('unknown_profile');
    const sel = await e2e.api.post('/api/chat/profile', { slug: 'no-such' });
    expect(sel.status).toBe(404);
    expect(sel.json.error.code).toBe('unknown_profile');
  });
});

describe('with default: in the file', () => {
  let e2e: E2E;
  beforeAll(async () => { e2e = await E2E.start({ default: anthropic.slug }); });
  afterEach(() => e2e.assertReplaysClean());
  afterAll(async () => { await e2e?.close(); });

  it('the file default wins over demo and serves prompts without runtime_key', async () => {
    const list: any[] = (await e2e.api.get('/api/chat/profiles')).json;
    expect(list.filter((p) => p.is_default).map((p) => p.slug)).toEqual([anthropic.slug]);
    expect(list.find((p) => p.slug === 'demo')).toMatchObject({ is_default: false, offline: true });
    expect(list.map((p) => p.slug)).not.toContain('openai'); // no key in the environment → no ready profile
    expect((await e2e.api.get('/api/chat/profile')).json).toEqual({ slug: anthropic.slug });
    e2e.mark();
    e2e.replay(anthropic).push(fixture(anthropic, 'default profile', { chunks: anthropic.wire.text(['hi'], USAGE) }));
    const c = await e2e.conversation();
    const { started, end } = await e2e.run(c, 'hello');
    expect(started.runtime_key).toBe(anthropic.slug);
    expect(end.event.data.status).toBe('completed');
    expect(e2e.requestsSince(anthropic)).toHaveLength(1);
  });
});

describe('keys: a keyless local server, a key variable that is not set', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await E2E.start({
      profiles: (replays) => [
        // An OpenAI-compatible local server (Ollama, vLLM, …): base_url and no key at all.
        { slug: 'local-ollama', provider: 'openai', model: 'llama3.2', base_url: `${replays.openai.url}/v1` },
        { ...profileFor(openai, replays.openai.url), slug: 'unset-key', api_key_env: 'E2E_NEVER_SET_KEY' },
      ],
    });
  });
  afterEach(() => e2e.assertReplaysClean());
  afterAll(async () => { await e2e?.close(); });

  it('a profile with base_url and no api_key_env runs (the SDK gets a placeholder key, never a real one)', async () => {
    e2e.mark();
    e2e.replay(openai).push({
      name: 'keyless',
      chunks: openai.wire.text(['local ', 'answer'], USAGE),
      check: (req) => {
        expect(req.path).toBe('/v1/chat/completions');
        expect(req.body.model).toBe('llama3.2');
        expect(req.headers.authorization).toBe(`Bearer ${KEYLESS_API_KEY}`);
      },
    });
    const c = await e2e.conversation();
    const { end, frames } = await e2e.run(c, 'hi local', 'local-ollama');
    expect(end.event.data).toMatchObject({ status: 'completed', error: null });
    expect(ofType(frames, 'llm.final')[0]!.event.data.text).toBe('local answer');
    expect(e2e.requestsSince(openai)).toHaveLength(1);
  });

  it('a profile whose key variable is not set: the prompt is refused with a message naming the variable', async () => {
    e2e.mark();
    const c = await e2e.conversation();
    const r = await e2e.api.chat({ prompt: 'hi', conv_id: c.convId, runtime_key: 'unset-key' });
    expect(r.status).toBe(500);
    expect(r.json.error.message).toMatch(/profile "unset-key": the environment variable E2E_NEVER_SET_KEY \(its API key\) is not set/);
    // a refused request changes nothing: no frame was appended for it
    expect((await e2e.api.get(`/api/timeline?conv_id=${c.convId}`)).json.version).toBe(0);
    for (const p of PROVIDERS) expect(e2e.requestsSince(p)).toHaveLength(0);
    // the conversation is not stuck: the next prompt on a working profile runs
    e2e.replay(openai).push(fixture(openai, 'after refusal', { chunks: openai.wire.text(['ok'], USAGE) }));
    const next = await e2e.run(c, 'again', openai.slug);
    expect(next.end.event.data.status).toBe('completed');
    c.assertValid();
  });
});

describe('profiles refused at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'providers-e2e-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(profiles: unknown[]): Promise<{ code: number; stderr: string; stdout: string }> {
    const file = join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, JSON.stringify({ profiles }));
    let stderr = '';
    let stdout = '';
    const code = await main(['serve', '--port', '0', '--db', ':memory:', '--profiles', file, '--log-level', 'silent'], {
      env: {}, stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, handleSignals: false,
    });
    return { code, stderr, stdout };
  }

  it('anthropic with temperature: refused, naming the profile and the field', async () => {
    const r = await start([{ slug: 'claude-warm', provider: 'anthropic', model: 'claude-sonnet-4-5', api_key_env: 'E2E_ANTHROPIC_KEY', temperature: 0.7 }]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cannot start: .*profile "claude-warm": temperature: not supported with provider "anthropic"/);
    expect(r.stderr).toMatch(/remove "temperature"/);
  });

  it('anthropic allowing a temperature override: refused too', async () => {
    const r = await start([{ slug: 'claude-open', provider: 'anthropic', api_key_env: 'E2E_ANTHROPIC_KEY', allow_overrides: ['system_prompt', 'temperature'] }]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/profile "claude-open": allow_overrides: "temperature" is not supported with provider "anthropic"/);
  });

  it('temperature stays allowed for the other providers', async () => {
    for (const p of PROVIDERS.filter((x) => x.id !== 'anthropic')) {
      // valid: the server starts (and is closed at once through onListening)
      const file = join(dir, `ok-${p.id}.json`);
      writeFileSync(file, JSON.stringify({ profiles: [{ slug: 'warm', provider: p.id, api_key_env: p.keyEnv, temperature: 0.7, allow_overrides: ['temperature'] }] }));
      let closed: Promise<void> | null = null;
      const code = await main(['serve', '--port', '0', '--db', ':memory:', '--profiles', file, '--log-level', 'silent'], {
        env: {}, stdout: () => undefined, stderr: () => undefined, handleSignals: false, onListening: (s) => { closed = s.close(); },
      });
      expect(code, p.id).toBe(0);
      await closed;
    }
  });

  it('a key pasted into api_key_env is refused without echoing it', async () => {
    const r = await start([{ slug: 'oops', provider: 'openai', api_key_env: openai.key }]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/profiles\.0\.api_key_env: an environment variable NAME/);
    expect(r.stderr).not.toContain(openai.key);
  });
});

it('the README example profiles (one per provider, Ollama through base_url) are valid', () => {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Providers'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  const { profiles } = parseProfiles(yaml, 'README.md');
  expect(profiles.map((p) => [p.slug, p.provider])).toEqual([
    ['gpt', 'openai'], ['gpt-responses', 'openai-responses'], ['claude', 'anthropic'], ['gemini', 'gemini'], ['local-llama', 'openai'],
  ]);
  expect(profiles.find((p) => p.slug === 'local-llama')).toMatchObject({ baseUrl: 'http://127.0.0.1:11434/v1', apiKeyEnv: null });
});
