/**
 * Issue 7, "secrets appear nowhere": the server runs as a child process
 * (`node bin/moments-webchat.mjs serve --log-level debug`, stdout and stderr captured: the pino
 * logger of `createLogger` cannot take a stream) with profiles for the four providers and a
 * ready `openai` profile from `OPENAI_API_KEY`. The test drives successes, tool calls and every
 * kind of provider failure — providers echoing the key in their error bodies included — reads
 * every API answer, and greps the logs, the answers and every WebSocket frame for the keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReplayServer } from '../../src/providers/testing/replay-server';
import {
  assertNoSecrets, echoKeyError, fixture, FrameClient, ofType, profileFor, provider, PROVIDERS, received, RecordingApi, USAGE,
  type ProviderId,
} from './harness';

const REPO = resolve(import.meta.dirname, '../..');
const READY_KEY = 'sk-test-SECRET-ready-0a9b8c7d';
const KEYS = [...PROVIDERS.map((p) => p.key), READY_KEY];

let child: ChildProcess;
let output = '';
let exited: Promise<number | null>;
let api: RecordingApi;
let url: string;
let dir: string;
const replays = {} as Record<ProviderId, ReplayServer>;
let ready: ReplayServer;

beforeAll(async () => {
  for (const p of PROVIDERS) replays[p.id] = await ReplayServer.start();
  ready = await ReplayServer.start();
  dir = mkdtempSync(join(tmpdir(), 'providers-e2e-secrets-'));
  const file = join(dir, 'profiles.yaml');
  writeFileSync(file, JSON.stringify({
    profiles: [
      ...PROVIDERS.map((p) => profileFor(p, replays[p.id].url)),
      { ...profileFor(provider('openai'), replays.openai.url), slug: 'unset-key', api_key_env: 'E2E_NEVER_SET_KEY' },
    ],
  }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test',
    ...Object.fromEntries(PROVIDERS.map((p) => [p.keyEnv, p.key])),
    OPENAI_API_KEY: READY_KEY, OPENAI_BASE_URL: `${ready.url}/v1`, OPENAI_MODEL: provider('openai').wire.model,
  };
  child = spawn(process.execPath, [
    'bin/moments-webchat.mjs', 'serve', '--port', '0', '--host', '127.0.0.1', '--db', ':memory:', '--profiles', file, '--log-level', 'debug',
  ], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((r) => child.once('exit', (code) => r(code)));
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${output}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (m) { clearTimeout(timer); res(m[1]!); }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => { clearTimeout(timer); rej(new Error(`server exited:\n${output}`)); });
  });
  api = new RecordingApi(url.replace(/\/$/, ''));
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited;
  }
  for (const r of Object.values(replays)) await r?.close();
  await ready?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs one prompt and waits for its run.end; returns the run.end data. */
async function run(c: FrameClient, prompt: string, runtimeKey: string): Promise<any> {
  const r = await api.chat({ prompt, conv_id: c.convId, runtime_key: runtimeKey });
  expect(r.status, r.text).toBe(200);
  return (await c.runEnd(r.json.inference_id)).event.data;
}

it('no key in the logs (debug), the API answers or the frames — errors echoing the key included', async () => {
  const convs: FrameClient[] = [];
  await Promise.all(PROVIDERS.map(async (p) => {
    const pid = p.wire.callId(0);
    replays[p.id].push(
      fixture(p, 'text', { chunks: p.wire.text(['Hello ', 'there'], USAGE) }),
      fixture(p, 'tool call', { chunks: p.wire.toolCalls([{ id: pid, name: 'calc', args: '{"expression":"1+2"}' }], { usage: USAGE }) }),
      fixture(p, 'after tool', { chunks: p.wire.text(['3'], USAGE) }),
      echoKeyError(p, 401, 'auth'),
      echoKeyError(p, 400, 'bad_request'),
      echoKeyError(p, 429, 'rate_limit', { retryAfterMs: 1 }),
      fixture(p, 'ok after 429', { chunks: p.wire.text(['ok'], USAGE) }),
      echoKeyError(p, 500, 'server', { retryAfterMs: 1 }), echoKeyError(p, 500, 'server', { retryAfterMs: 1 }), echoKeyError(p, 500, 'server', { retryAfterMs: 1 }),
      fixture(p, 'malformed', { chunks: p.wire.malformed() }),
      fixture(p, 'reset', { chunks: p.wire.textPrefix(['Hel', 'lo']), then: 'destroy' }),
    );
    const c = await FrameClient.open(url, `secrets-${p.id}`);
    convs.push(c);
    expect(await run(c, 'hello', p.slug)).toMatchObject({ status: 'completed' });
    expect(await run(c, 'compute 1+2', p.slug)).toMatchObject({ status: 'completed' });
    expect(await run(c, 'auth', p.slug)).toMatchObject({ status: 'error', error: { code: 'provider_auth' } });
    expect(await run(c, 'bad', p.slug)).toMatchObject({ status: 'error', error: { code: 'provider_bad_request' } });
    expect(await run(c, 'rate', p.slug)).toMatchObject({ status: 'completed' });
    expect(await run(c, 'overloaded', p.slug)).toMatchObject({ status: 'error', error: { code: 'provider_overloaded' } });
    expect(await run(c, 'malformed', p.slug)).toMatchObject({ status: 'error', error: { code: 'provider_stream' } });
    expect(await run(c, 'reset', p.slug)).toMatchObject({ status: 'error', error: { code: 'provider_stream' } });
    // the providers echoed the key in 401, 400 and 500 bodies: the messages show the redaction mark instead
    const echoed = ofType(c.frames, 'run.end').map((f) => f.event.data.error).filter((e) => e && ['provider_auth', 'provider_bad_request', 'provider_overloaded'].includes(e.code));
    expect(echoed).toHaveLength(3);
    for (const e of echoed) expect(e.message, p.id).toMatch(/(Incorrect API key provided:|Request refused for credential) .*\*\*\*/);
    const warn = ofType(c.frames, 'log').find((f) => f.event.data.level === 'warn' && f.event.data.fields.code === 'provider_rate_limited');
    expect(warn!.event.data.fields.error).toContain('***'); // the retry log carries the (redacted) provider message
    c.assertValid();

    // every read API of the conversation
    for (const path of [`/api/timeline?conv_id=${c.convId}`, `/api/conversations/${c.convId}`, `/api/conversations/${c.convId}/turns`, `/api/conversations/${c.convId}/turns?full=1`]) {
      const r = await api.get(path);
      expect(r.status, path).toBe(200);
    }
    await api.allEvents(c.convId);
    expect((await api.cancel(c.convId)).json).toEqual({ status: 'not_running' });
  }));
  for (const p of PROVIDERS) {
    replays[p.id].assertClean();
    expect(replays[p.id].pending).toBe(0);
  }

  // the ready profile (OPENAI_API_KEY, OPENAI_BASE_URL)
  const openai = provider('openai');
  ready.push({ name: 'ready', chunks: openai.wire.text(['ready'], USAGE), check: (req) => openai.wire.checkTransport(req, READY_KEY) }, { name: 'ready 401', ...openai.wire.error(401, 'auth', { message: `Incorrect API key provided: ${READY_KEY}` }) });
  const c = await FrameClient.open(url, 'secrets-ready');
  expect(await run(c, 'hi', 'openai')).toMatchObject({ status: 'completed' });
  expect(await run(c, 'hi again', 'openai')).toMatchObject({ status: 'error', error: { code: 'provider_auth' } });
  ready.assertClean();

  // a profile whose key variable is unset: a 500 naming the variable
  const unset = await api.chat({ prompt: 'x', conv_id: c.convId, runtime_key: 'unset-key' });
  expect(unset.status).toBe(500);
  expect(unset.text).toContain('E2E_NEVER_SET_KEY');

  // the other answers: profiles, cookie, list, health, metrics, errors; a key sent to the server in headers
  const sneaky = { authorization: `Bearer ${openai.key}`, cookie: `chat_profile=e2e-openai; other=${READY_KEY}` };
  const answers = [
    await api.get('/api/chat/profiles', sneaky),
    await api.get('/api/chat/profile', sneaky),
    await api.post('/api/chat/profile', { slug: 'e2e-anthropic' }),
    await api.get('/api/conversations?limit=100'),
    await api.get('/healthz'), await api.get('/readyz'), await api.get('/metrics'),
    await api.chat({ prompt: 'x', runtime_key: 'no-such' }),
    await api.request('POST', '/chat', { body: '{"prompt":', headers: { 'content-type': 'application/json' } }),
    await api.get('/api/conversations/no-such-conv'),
    await api.get('/api/timeline?conv_id=bad%20id'),
  ];
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 404, 400, 404, 400]);
  const profiles = answers[0]!.json as any[];
  expect(profiles.map((p) => p.slug)).toEqual(expect.arrayContaining(['demo', 'openai', 'openai-responses', ...PROVIDERS.map((p) => p.slug)]));
  c.assertValid();
  for (const x of [...convs, c]) x.close();

  child.kill('SIGTERM');
  expect(await exited).toBe(0);

  // The capture is real: the request logs made it out (the server logs requests and its own
  // life cycle; runs and provider errors reach clients as frames, not the server log).
  const lines = output.split('\n').filter((l) => l.startsWith('{'));
  expect(lines.length).toBeGreaterThan(50);
  expect(output).toContain('/api/chat/profiles');
  expect(output).toContain('shutting down');
  expect(received.length).toBeGreaterThan(100);

  assertNoSecrets([output], KEYS);
  assertNoSecrets(received, KEYS);
});
