/**
 * End-to-end harness for the provider engines: the real server (`serve`) with a profiles file
 * whose profiles point the real SDK engines at local replay servers (127.0.0.1 only), a
 * recording HTTP client and a recording WebSocket client. Everything the test receives (HTTP
 * bodies, Set-Cookie headers, frames) is kept so a test can prove no API key ever leaves.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import { builtinTools } from '../../src/inference/tools/builtin';
import { EnvelopeSchema } from '../../src/protocol/frames';
import { anthropicWire } from '../../src/providers/testing/fixtures/anthropic';
import { geminiWire } from '../../src/providers/testing/fixtures/gemini';
import { openaiChatWire } from '../../src/providers/testing/fixtures/openai-chat';
import { openaiResponsesWire } from '../../src/providers/testing/fixtures/openai-responses';
import { ReplayServer, type Fixture, type RecordedRequest } from '../../src/providers/testing/replay-server';
import type { ProviderWire, RequestSummary } from '../../src/providers/testing/wire';
import type { Usage } from '../../src/protocol/frames';
import { serve, type RunningServer } from '../../src/server/cli';
import { parseConfig } from '../../src/server/config';
import { Api, type HttpResult, type RequestOptions } from '../helpers/http';

export type ProviderId = 'openai' | 'openai-responses' | 'anthropic' | 'gemini';

/** One provider under test: its wire format, its profile slug and the key its profile names. */
export interface E2EProvider {
  id: ProviderId;
  wire: ProviderWire;
  slug: string;
  keyEnv: string;
  /** Only two keys are key-shaped (`sk-…`): the others prove the engine redacts its own key, not a pattern. */
  key: string;
}

export const PROVIDERS: readonly E2EProvider[] = [
  { id: 'openai', wire: openaiChatWire, slug: 'e2e-openai', keyEnv: 'E2E_OPENAI_KEY', key: 'sk-test-SECRET-abc123' },
  { id: 'openai-responses', wire: openaiResponsesWire, slug: 'e2e-openai-responses', keyEnv: 'E2E_OPENAI_RESPONSES_KEY', key: 'e2eSECRETresponses4f9d2c' },
  { id: 'anthropic', wire: anthropicWire, slug: 'e2e-anthropic', keyEnv: 'E2E_ANTHROPIC_KEY', key: 'e2eSECRETanthropic8b1e7a' },
  { id: 'gemini', wire: geminiWire, slug: 'e2e-gemini', keyEnv: 'E2E_GEMINI_KEY', key: 'e2eSECRETgemini3c6f0d' },
];

export const provider = (id: ProviderId): E2EProvider => PROVIDERS.find((p) => p.id === id)!;

export const SYSTEM_PROMPT = 'You are the e2e test assistant.';
export const USAGE: Usage = { inputTokens: 42, outputTokens: 7, cachedTokens: 10 };

/** The tools every e2e profile offers, as the provider must receive them. */
export const EXPECTED_TOOLS = builtinTools().map((t) => ({ name: t.name, description: t.description, schema: t.jsonSchema }));

/** Every text the tests received from the server (answers, cookies, frames), for the secret sweep. */
export const received: string[] = [];

/** Asserts that none of the keys appears in `texts`. */
export function assertNoSecrets(texts: readonly string[], keys: readonly string[] = allKeys()): void {
  const all = texts.join('\n');
  for (const k of keys) {
    const at = all.indexOf(k);
    expect(at, `secret ${k} leaked: …${all.slice(Math.max(0, at - 200), at + 100)}…`).toBe(-1);
  }
}

export const allKeys = (): string[] => PROVIDERS.map((p) => p.key);

/** `Api` of test/helpers that keeps every answer body and Set-Cookie header in `received`. */
export class RecordingApi extends Api {
  override async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
    const r = await super.request<T>(method, path, opts);
    received.push(r.text);
    const cookie = r.headers.get('set-cookie');
    if (cookie) received.push(cookie);
    return r;
  }
}

export type Frame = { sem: true; event: { type: string; id: string; seq: number | null; data: any; metadata: any } };

/** A WebSocket subscriber of one conversation: keeps every frame, validates each with `EnvelopeSchema`. */
export class FrameClient {
  readonly frames: Frame[] = [];
  readonly invalid: string[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly ws: WebSocket, readonly convId: string) {}

  static async open(serverUrl: string, convId: string): Promise<FrameClient> {
    const ws = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}ws?conv_id=${convId}`);
    const client = new FrameClient(ws, convId);
    ws.on('message', (data) => {
      const text = data.toString();
      received.push(text);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        client.invalid.push(`not JSON: ${text}`);
        return;
      }
      const r = EnvelopeSchema.safeParse(json);
      if (!r.success) client.invalid.push(`${text}\n  ${r.error.message}`);
      client.frames.push(json as Frame);
      for (const l of [...client.listeners]) l();
    });
    await client.waitFor((f) => f.find((x) => x.event.type === 'ws.hello'), 'ws.hello');
    return client;
  }

  /** Resolves with the first truthy `pick(frames)`, re-evaluated at every frame. */
  waitFor<T>(pick: (frames: Frame[]) => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = pick(this.frames);
        if (v) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${what} on ${this.convId}; frames: ${this.frames.map((f) => f.event.type).join(', ')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The `run.end` of an inference, once it arrived. */
  runEnd(inferenceId: string, timeoutMs?: number): Promise<Frame> {
    return this.waitFor((f) => f.find((x) => x.event.type === 'run.end' && x.event.data.inferenceId === inferenceId), `run.end of ${inferenceId}`, timeoutMs);
  }

  /** Log frames (seq'd) from `fromSeq` through `toSeq` inclusive. */
  between(fromSeq: number, toSeq: number): Frame[] {
    return this.frames.filter((f) => f.event.seq !== null && f.event.seq >= fromSeq && f.event.seq <= toSeq);
  }

  assertValid(): void {
    expect(this.invalid).toEqual([]);
    const seqs = this.frames.filter((f) => f.event.seq !== null).map((f) => f.event.seq!);
    seqs.forEach((s, i) => expect(s).toBe(seqs[0]! + i)); // live delivery: contiguous, in order (from 1 on a new conversation)
  }

  close(): void {
    this.ws.close();
  }
}

/** Frame types of a run, consecutive deltas collapsed (`llm.delta ×3` → one). Ids, text, chunking ignored. */
export function shapeOf(frames: Frame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    const t = f.event.type;
    if ((t === 'llm.delta' || t === 'llm.thinking.delta') && out[out.length - 1] === t) continue;
    out.push(t);
  }
  return out;
}

export const ofType = (frames: Frame[], type: string): Frame[] => frames.filter((f) => f.event.type === type);

/** A fixture that runs the provider's transport checks (path, key header, stream flag, model) and then `check`. */
export function fixture(p: E2EProvider, name: string, rest: Omit<Fixture, 'name' | 'check'>, check?: (s: RequestSummary, req: RecordedRequest) => void): Fixture {
  return {
    name: `${p.id}: ${name}`,
    ...rest,
    check: (req) => {
      p.wire.checkTransport(req, p.key);
      const s = p.wire.summarize(req);
      expect(s.model).toBe(p.wire.model);
      expect(s.stream).toBe(true);
      check?.(s, req);
    },
  };
}

/** An error answer whose message echoes the credential header the provider got (as a careless provider would). */
export function echoKeyError(p: E2EProvider, status: number, kind: Parameters<ProviderWire['error']>[1], opts: { retryAfterMs?: number } = {}): Fixture {
  const f: Fixture = {
    name: `${p.id}: ${status} echoing the key`,
    check: (req) => {
      const cred = String(req.headers['x-goog-api-key'] ?? req.headers['x-api-key'] ?? req.headers.authorization ?? '');
      expect(cred).toContain(p.key);
      const said = status === 401 || status === 403 ? 'Incorrect API key provided:' : 'Request refused for credential';
      Object.assign(f, p.wire.error(status, kind, { ...opts, message: `${said} ${cred}. (header was "${cred}")` }));
    },
  };
  return f;
}

export interface ProfileEntry {
  slug: string;
  provider: string;
  model?: string;
  base_url?: string;
  api_key_env?: string;
  [k: string]: unknown;
}

/** The profile of a provider pointed at a replay server. */
export function profileFor(p: E2EProvider, replayUrl: string, extra: Record<string, unknown> = {}): ProfileEntry {
  return {
    slug: p.slug,
    display_name: `E2E ${p.id}`,
    provider: p.id,
    model: p.wire.model,
    base_url: p.wire.baseURL(replayUrl),
    api_key_env: p.keyEnv,
    system_prompt: SYSTEM_PROMPT,
    tools: ['calc', 'get_time'],
    ...extra,
  };
}

export interface StartOptions {
  /** Extra profiles (beside one per provider). */
  profiles?: (replays: Record<ProviderId, ReplayServer>) => ProfileEntry[];
  default?: string;
  /** Extra environment for the server's lifetime (removed at close). */
  env?: Record<string, string>;
  /** Log level (default silent). */
  logLevel?: string;
  /** A SQLite file (kept across `restart()`) instead of `:memory:`. */
  persistent?: boolean;
}

/** A running e2e setup: one replay server per provider, the server, clients. */
export class E2E {
  private readonly sockets: FrameClient[] = [];
  private readonly baseline = new Map<ProviderId, number>();

  private constructor(
    readonly replays: Record<ProviderId, ReplayServer>,
    public server: RunningServer,
    public api: RecordingApi,
    private readonly dir: string,
    private readonly envNames: string[],
    private readonly argv: string[],
  ) {}

  static async start(opts: StartOptions = {}): Promise<E2E> {
    const replays = {} as Record<ProviderId, ReplayServer>;
    for (const p of PROVIDERS) replays[p.id] = await ReplayServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'providers-e2e-'));
    const file = join(dir, 'profiles.json');
    const doc = {
      ...(opts.default ? { default: opts.default } : {}),
      profiles: [...PROVIDERS.map((p) => profileFor(p, replays[p.id].url)), ...(opts.profiles?.(replays) ?? [])],
    };
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const env: Record<string, string> = { ...Object.fromEntries(PROVIDERS.map((p) => [p.keyEnv, p.key])), ...opts.env };
    for (const [k, v] of Object.entries(env)) process.env[k] = v;
    const db = opts.persistent ? join(dir, 'webchat.db') : ':memory:';
    const argv = ['--port', '0', '--host', '127.0.0.1', '--db', db, '--profiles', file, '--log-level', opts.logLevel ?? 'silent'];
    let server: RunningServer;
    try {
      server = await serve(parseConfig(argv, {}), { handleSignals: false });
    } catch (err) {
      for (const k of Object.keys(env)) delete process.env[k];
      for (const r of Object.values(replays)) await r.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new E2E(replays, server, new RecordingApi(server.url.replace(/\/$/, '')), dir, Object.keys(env), argv);
  }

  replay(p: E2EProvider): ReplayServer {
    return this.replays[p.id];
  }

  /** Marks the current request count of every replay server (see `requestsSince`). */
  mark(): void {
    for (const p of PROVIDERS) this.baseline.set(p.id, this.replays[p.id].requests.length);
  }

  /** Requests a replay server got since `mark()`. */
  requestsSince(p: E2EProvider): RecordedRequest[] {
    return this.replays[p.id].requests.slice(this.baseline.get(p.id) ?? 0);
  }

  /** Every replay server: no failed check, no request without a fixture, every fixture used. */
  assertReplaysClean(): void {
    for (const p of PROVIDERS) {
      this.replays[p.id].assertClean();
      expect(this.replays[p.id].pending, `${p.id}: unused fixtures`).toBe(0);
    }
  }

  async socket(convId: string): Promise<FrameClient> {
    const c = await FrameClient.open(this.server.url, convId);
    this.sockets.push(c);
    return c;
  }

  /** A new conversation with a socket open before its first prompt. */
  async conversation(): Promise<FrameClient> {
    return this.socket(`e2e-${randomUUID()}`);
  }

  /** `POST /chat` expecting 200 started; returns the answer body. */
  async start(c: FrameClient, prompt: string, runtimeKey?: string, headers?: Record<string, string>): Promise<any> {
    const r = await this.api.chat({ prompt, conv_id: c.convId, ...(runtimeKey ? { runtime_key: runtimeKey } : {}) }, headers);
    expect(r.status, r.text).toBe(200);
    expect(r.json.status).toBe('started');
    return r.json;
  }

  /**
   * Sends a prompt on a fresh start and waits for its `run.end`: the frames of the run (from its
   * `chat.message` through its `run.end`), the `run.end` frame and the answer of `/chat`.
   */
  async run(c: FrameClient, prompt: string, runtimeKey?: string, headers?: Record<string, string>): Promise<{ frames: Frame[]; end: Frame; started: any }> {
    const started = await this.start(c, prompt, runtimeKey, headers);
    const end = await c.runEnd(started.inference_id);
    return { frames: c.between(started.seq, end.event.seq!), end, started };
  }

  async timeline(convId: string): Promise<any> {
    const r = await this.api.timeline(convId);
    expect(r.status, r.text).toBe(200);
    return r.json;
  }

  /** Stops the server (gracefully) and starts a new one on the same database and profiles. */
  async restart(): Promise<void> {
    for (const s of this.sockets.splice(0)) s.close();
    await this.server.close();
    this.server = await serve(parseConfig(this.argv, {}), { handleSignals: false });
    this.api = new RecordingApi(this.server.url.replace(/\/$/, ''));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    try {
      await this.server.close();
    } finally {
      for (const r of Object.values(this.replays)) await r.close();
      for (const k of this.envNames) delete process.env[k];
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A stream of several text deltas, joined. */
export const joined = (frames: Frame[], type = 'llm.delta'): string => ofType(frames, type).map((f) => f.event.data.delta).join('');
