import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../protocol/errors';
import { ChatResponse, ProfileInfo } from '../protocol/http';
import type { PromptInput } from '../webchat/chat-service';
import { parseCookies } from './cookies';
import { testApp, type TestApp } from './testing/test-app';

let t: TestApp;
afterEach(async () => t?.app.close());

const lastCall = (method: string) => t.service.calls.filter((c) => c.method === method).at(-1)?.args;
const promptInput = () => lastCall('submitPrompt')?.[0] as PromptInput;

describe('POST /chat', () => {
  it('passes the prompt, ids and overrides to submitPrompt and answers its status and body', async () => {
    t = testApp({
      service: {
        submitPrompt: async (input) => ({
          httpStatus: 202,
          body: {
            status: 'queued',
            conv_id: input.convId!,
            session_id: input.convId!,
            turn_id: 't2',
            idempotency_key: input.idempotencyKey,
            runtime_key: input.runtimeKey!,
            queue_position: 1,
            queue_depth: 1,
            seq: 7,
          },
        }),
      },
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/chat',
      headers: { 'idempotency-key': 'k-1' },
      payload: { prompt: '  hello ', conv_id: 'c_1-x', request_overrides: { step_mode: true } },
    });
    expect(res.statusCode).toBe(202);
    expect(ChatResponse.parse(res.json())).toMatchObject({ status: 'queued', conv_id: 'c_1-x', idempotency_key: 'k-1', seq: 7 });
    expect(promptInput()).toEqual({
      prompt: '  hello ',
      convId: 'c_1-x',
      runtimeKey: 'demo',
      idempotencyKey: 'k-1',
      overrides: { step_mode: true },
      principal: null,
    });
  });

  it('accepts `text` as an alias, null optional fields, and no conv_id', async () => {
    t = testApp();
    const res = await t.app.inject({ method: 'POST', url: '/chat', payload: { text: 'hi', conv_id: null, idempotency_key: 'b' } });
    expect(res.statusCode).toBe(200);
    expect(promptInput()).toMatchObject({ prompt: 'hi', convId: null, idempotencyKey: 'b', overrides: null });
  });

  it('counts prompt length in characters (code points), not UTF-16 units', async () => {
    t = testApp({ argv: ['--max-prompt-chars', '3'] });
    const ok = await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: '😀😀😀' } });
    expect(ok.statusCode).toBe(200);
    const tooLong = await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: '😀😀😀😀' } });
    expect(tooLong.json().error).toMatchObject({ code: 'bad_request', details: { max_prompt_chars: 3, prompt_chars: 4 } });
  });

  it('accepts application/json with a charset', async () => {
    t = testApp();
    const res = await t.app.inject({
      method: 'POST',
      url: '/chat',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: '{"prompt":"hi"}',
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('profile precedence: path > body > query > cookie > default', () => {
  const send = (url: string, body: Record<string, unknown>, cookie?: string) =>
    t.app.inject({ method: 'POST', url, payload: { prompt: 'hi', ...body }, headers: cookie ? { cookie } : {} });

  it('picks each source in order', async () => {
    t = testApp();
    const cookie = 'other=1; chat_profile=zeta';
    await send('/chat/alpha?runtime_key=demo', { runtime_key: 'zeta' }, 'chat_profile=demo');
    expect(promptInput().runtimeKey).toBe('alpha'); // path
    await send('/chat?runtime_key=alpha', { runtime_key: 'zeta' }, 'chat_profile=demo');
    expect(promptInput().runtimeKey).toBe('zeta'); // body
    await send('/chat?runtime_key=alpha', {}, cookie);
    expect(promptInput().runtimeKey).toBe('alpha'); // query
    await send('/chat', {}, cookie);
    expect(promptInput().runtimeKey).toBe('zeta'); // cookie
    await send('/chat', {});
    expect(promptInput().runtimeKey).toBe('demo'); // default
  });

  it('a stale cookie falls back to the default; an explicit unknown slug is refused', async () => {
    t = testApp();
    await send('/chat', {}, 'chat_profile=gone');
    expect(promptInput().runtimeKey).toBe('demo');
    const res = await send('/chat?runtime_key=gone', {});
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'unknown_profile']);
  });
});

describe('profiles', () => {
  it('GET /api/chat/profiles → sorted by slug, protocol shape', async () => {
    t = testApp();
    const res = await t.app.inject({ method: 'GET', url: '/api/chat/profiles' });
    const list = ProfileInfo.array().parse(res.json());
    expect(list.map((p) => p.slug)).toEqual(['alpha', 'demo', 'zeta']);
  });

  it('POST /api/chat/profile sets the cookie; GET reads it back; default without cookie', async () => {
    t = testApp();
    expect((await t.app.inject({ method: 'GET', url: '/api/chat/profile' })).json()).toEqual({ slug: 'demo' });
    const res = await t.app.inject({ method: 'POST', url: '/api/chat/profile', payload: { slug: 'zeta' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ slug: 'zeta' });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^chat_profile=zeta;/);
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('HttpOnly');
    const cookie = setCookie.split(';')[0]!;
    expect((await t.app.inject({ method: 'GET', url: '/api/chat/profile', headers: { cookie } })).json()).toEqual({ slug: 'zeta' });
    // The cookie then selects the profile of the next prompt.
    await t.app.inject({ method: 'POST', url: '/chat', payload: { prompt: 'hi' }, headers: { cookie } });
    expect(promptInput().runtimeKey).toBe('zeta');
  });

  it('parseCookies handles quoting, encoding and duplicates', () => {
    expect(parseCookies('a=1; b="x y"; c=%E2%9C%93; a=2; bad; =x')).toEqual({ a: '1', b: 'x y', c: '✓' });
  });
});

describe('conversation routes call the service with parsed input', () => {
  it('list, state, delete, cancel, events, turns, step mode, pauses, debug aliases, timeline', async () => {
    t = testApp();
    const inj = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => t.app.inject({ method, url, payload: payload as object });

    expect((await inj('GET', '/api/conversations')).json()).toEqual({ items: [], next_cursor: null });
    expect(lastCall('listConversations')).toEqual([{ limit: 50, cursor: null }, null]);
    await inj('GET', '/api/conversations?limit=100&cursor=abc');
    expect(lastCall('listConversations')).toEqual([{ limit: 100, cursor: 'abc' }, null]);

    expect((await inj('GET', '/api/conversations/c1')).json()).toMatchObject({ conv_id: 'c1', epoch: 'e1' });

    const del = await inj('DELETE', '/api/conversations/c1');
    expect([del.statusCode, del.body]).toEqual([204, '']);
    expect(lastCall('deleteConversation')).toEqual(['c1', null]);

    expect((await inj('POST', '/api/conversations/c1/cancel', {})).json()).toEqual({ status: 'not_running' });
    expect(lastCall('cancel')).toEqual(['c1', { inferenceId: null, clearQueue: false }, null]);
    await inj('POST', '/api/conversations/c1/cancel', { inference_id: 'i1', clear_queue: true });
    expect(lastCall('cancel')).toEqual(['c1', { inferenceId: 'i1', clearQueue: true }, null]);

    await inj('GET', '/api/conversations/c1/events');
    expect(lastCall('readEvents')).toEqual(['c1', 0, 1000, null]);
    const ev = await inj('GET', '/api/conversations/c1/events?since=5&limit=10000');
    expect(lastCall('readEvents')).toEqual(['c1', 5, 10000, null]);
    expect(ev.json()).toMatchObject({ next_since: 5, resync: false });

    await inj('GET', '/api/conversations/c1/turns');
    expect(lastCall('getTurns')).toEqual(['c1', false, null]);
    await inj('GET', '/api/conversations/c1/turns?full=1');
    expect(lastCall('getTurns')).toEqual(['c1', true, null]);

    expect((await inj('PUT', '/api/conversations/c1/step-mode', { enabled: true })).json()).toEqual({ step_mode: true });
    expect(lastCall('setStepMode')).toEqual(['c1', true, null]);

    const p = await inj('POST', '/api/conversations/c1/pauses/p-9', { action: 'deny', tool_call_ids: ['t1'] });
    expect(p.json()).toMatchObject({ ok: true, pause: { pause_id: 'p-9' } });
    expect(lastCall('resolvePause')).toEqual(['c1', 'p-9', 'deny', ['t1'], null]);

    await inj('POST', '/api/debug/step/enable', { conv_id: 'c2' });
    expect(lastCall('setStepMode')).toEqual(['c2', true, null]);
    await inj('POST', '/api/debug/step/disable', { conv_id: 'c2' });
    expect(lastCall('setStepMode')).toEqual(['c2', false, null]);
    await inj('POST', '/api/debug/continue', { pause_id: 'p-1' });
    expect(lastCall('resolvePause')).toEqual([null, 'p-1', 'continue', null, null]);
    await inj('POST', '/api/debug/continue', { pause_id: 'p-1', conv_id: 'c3', action: 'approve', tool_call_ids: ['a'] });
    expect(lastCall('resolvePause')).toEqual(['c3', 'p-1', 'approve', ['a'], null]);

    expect((await inj('GET', '/api/timeline?conv_id=c4')).json()).toMatchObject({ convId: 'c4', version: 0 });
    expect(lastCall('getTimeline')).toEqual(['c4', null]);
  });
});

describe('health, readiness, metrics', () => {
  it('/healthz, /readyz ready and not ready, /metrics', async () => {
    let ready = true;
    t = testApp({ service: { ready: async () => ({ ready, checks: { store: ready } }) } });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });
    const ok = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect([ok.statusCode, ok.json()]).toEqual([200, { ok: true, checks: { store: true } }]);
    ready = false;
    const notReady = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(ErrorBody.parse(notReady.json()).error).toEqual({ code: 'not_ready', message: 'not ready', details: { checks: { store: false } } });

    t.metrics.runStarted();
    t.metrics.runEnded('completed');
    t.metrics.socketDropped('overflow');
    t.metrics.commitLatencyMs(3, 10);
    const m = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.body).toContain('webchat_runs_total{status="completed"} 1');
    expect(m.body).toContain('webchat_socket_drops_total{reason="overflow"} 1');
    expect(m.body).toContain('webchat_commit_latency_seconds_count 1');
    expect(m.body).toContain('webchat_sockets 0');
    // event-loop delay quantiles and disk writes (Linux) for the store's write amplification
    expect(m.body).toMatch(/webchat_event_loop_delay_seconds\{quantile="0\.99"\} \d/);
    expect(m.body).toMatch(/webchat_event_loop_delay_seconds\{quantile="max"\} \d/);
    expect(m.body).toMatch(/webchat_process_disk_written_bytes \d+/);
    expect(m.body).toMatch(/webchat_http_requests_total\{method="GET",route="\/readyz",status="503"\} 1/);
  });

  it('readiness that throws is 503 not_ready', async () => {
    t = testApp({
      service: {
        ready: async () => {
          throw new Error('db gone');
        },
      },
    });
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect([res.statusCode, res.json().error.code]).toEqual([503, 'not_ready']);
  });
});

describe('UI', () => {
  const INDEX = (base: string) => `<!doctype html><html><head><base href="${base}" /><title>app</title></head></html>`;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'webchat-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX('/'));
    writeFileSync(join(dir, 'assets', 'app-123.js'), 'console.log(1)\n//# sourceMappingURL=app-123.js.map');
    writeFileSync(join(dir, 'assets', 'app-123.js.map'), '{"version":3,"sources":["secret.ts"]}');
    writeFileSync(join(dir, 'top.js.map'), '{"version":3}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves index and assets; SPA fallback for browser page paths only', async () => {
    t = testApp({ uiDir: dir });
    const index = await t.app.inject({ method: 'GET', url: '/' });
    expect([index.statusCode, index.body]).toEqual([200, INDEX('/')]);
    // index.html only as the page (its <base> set), never as a raw file
    expect((await t.app.inject({ method: 'GET', url: '/index.html', headers: { accept: '*/*' } })).statusCode).toBe(404);
    const asset = await t.app.inject({ method: 'GET', url: '/assets/app-123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');

    const page = await t.app.inject({ method: 'GET', url: '/c/some-conv', headers: { accept: 'text/html,*/*' } });
    expect([page.statusCode, page.body]).toEqual([200, INDEX('/')]);
    // Not a browser, an API path, or a missing asset: JSON 404.
    const notHtml = await t.app.inject({ method: 'GET', url: '/c/some-conv', headers: { accept: 'application/json' } });
    expect([notHtml.statusCode, notHtml.json().error.code]).toEqual([404, 'not_found']);
    const api = await t.app.inject({ method: 'GET', url: '/api/nope', headers: { accept: 'text/html' } });
    expect([api.statusCode, api.json().error.code]).toEqual([404, 'not_found']);
    const asset404 = await t.app.inject({ method: 'GET', url: '/assets/missing.js', headers: { accept: 'text/html' } });
    expect(asset404.statusCode).toBe(404);
  });

  it('under --root, the built UI lives at <root>/ (and <root> redirects there)', async () => {
    t = testApp({ uiDir: dir, argv: ['--root', '/x'] });
    // the page's <base> is the prefix, so its relative asset and API URLs resolve under it
    expect((await t.app.inject({ method: 'GET', url: '/x/' })).body).toBe(INDEX('/x/'));
    expect((await t.app.inject({ method: 'GET', url: '/x/c/abc', headers: { accept: 'text/html' } })).body).toBe(INDEX('/x/'));
    expect((await t.app.inject({ method: 'GET', url: '/x/assets/app-123.js' })).statusCode).toBe(200);
    const redirect = await t.app.inject({ method: 'GET', url: '/x', headers: { accept: 'text/html' } });
    expect([redirect.statusCode, redirect.headers.location]).toEqual([301, '/x/']);
    expect((await t.app.inject({ method: 'GET', url: '/assets/app-123.js' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })).statusCode).toBe(404);
  });

  it('source maps are not served by default: JSON 404, whatever the spelling', async () => {
    t = testApp({ uiDir: dir });
    for (const url of ['/assets/app-123.js.map', '/assets/APP-123.JS.MAP', '/assets/app-123.js.%6Dap', '/top.js.map', '/assets/./app-123.js.map']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { accept: '*/*' } });
      expect([url, res.statusCode, ErrorBody.parse(res.json()).error.code]).toEqual([url, 404, 'not_found']);
      expect(res.body).not.toContain('secret.ts');
    }
    const head = await t.app.inject({ method: 'HEAD', url: '/assets/app-123.js.map' });
    expect(head.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/assets/app-123.js' })).statusCode).toBe(200);
  });

  it('--serve-source-maps serves them', async () => {
    t = testApp({ uiDir: dir, argv: ['--serve-source-maps'] });
    const res = await t.app.inject({ method: 'GET', url: '/assets/app-123.js.map' });
    expect([res.statusCode, res.body]).toEqual([200, '{"version":3,"sources":["secret.ts"]}']);
  });

  it('without web/dist, / says the UI is not built and how to build it', async () => {
    t = testApp({ uiDir: join(dir, 'missing') });
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('not built');
    expect(res.body).toContain('npm run build');
  });
});

describe('--root /x mounts everything under /x', () => {
  it('routes, errors and UI live under the prefix only', async () => {
    t = testApp({ argv: ['--root', '/x'] });
    expect((await t.app.inject({ method: 'GET', url: '/x/healthz' })).json()).toEqual({ ok: true });
    expect((await t.app.inject({ method: 'POST', url: '/x/chat', payload: { prompt: 'hi' } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/x/chat/zeta', payload: { prompt: 'hi' } })).statusCode).toBe(200);
    expect(promptInput().runtimeKey).toBe('zeta');
    expect((await t.app.inject({ method: 'GET', url: '/x/api/conversations/c1' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/x/chat' })).statusCode).toBe(405);
    expect((await t.app.inject({ method: 'GET', url: '/x/' })).body).toContain('not built');
    expect((await t.app.inject({ method: 'GET', url: '/x' })).body).toContain('not built');
    for (const url of ['/healthz', '/chat', '/api/conversations/c1']) {
      const res = await t.app.inject({ method: url === '/chat' ? 'POST' : 'GET', url, payload: url === '/chat' ? { prompt: 'hi' } : undefined });
      expect([url, res.statusCode, res.json().error.code]).toEqual([url, 404, 'not_found']);
    }
  });
});
