import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatServiceOptions } from '../webchat/create-chat-service';
import { hostNote, main, serve, type MainDeps, type RunningServer } from './cli';
import { FLAGS, envName, parseConfig } from './config';
import { fakeChatService, type FakeChatService } from './testing/fake-chat-service';

const BIN = fileURLToPath(new URL('../../bin/moments-webchat.mjs', import.meta.url));

function harness(extra: Partial<MainDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const created: { opts: ChatServiceOptions; service: FakeChatService }[] = [];
  let running: RunningServer | null = null;
  const deps: MainDeps = {
    env: { WEBCHAT_LOG_LEVEL: 'silent' },
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    handleSignals: false,
    createChatService: async (opts) => {
      const service = fakeChatService();
      created.push({ opts, service });
      return service;
    },
    onListening: (s) => (running = s),
    ...extra,
  };
  return { deps, out, err, created, running: () => running };
}

let toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c();
});

describe('main', () => {
  it('--help prints every flag with its env var, exit 0, starts nothing', async () => {
    const h = harness();
    expect(await main(['--help'], h.deps)).toBe(0);
    const text = h.out.join('');
    for (const f of FLAGS) expect(text).toContain(envName(f.flag));
    expect(h.created).toEqual([]);
    expect(await main(['serve', '-h'], h.deps)).toBe(0);
  });

  it('bad flags: exit 1 with a clear message on stderr, nothing started', async () => {
    const h = harness();
    expect(await main(['--port', 'eighty'], h.deps)).toBe(1);
    expect(h.err.join('')).toMatch(/^moments-webchat: --port: "eighty" must be a non-negative integer\nRun moments-webchat --help/);
    expect(await main(['serve', '--bogus'], h.deps)).toBe(1);
    expect(h.err.join('')).toContain("Unknown option '--bogus'");
    expect(h.created).toEqual([]);
    expect(h.out).toEqual([]);
  });

  it('binding beyond loopback without --allowed-hosts or --public-url prints a note on stderr', async () => {
    const h = harness();
    expect(await main(['--port', '0', '--db', ':memory:', '--host', '0.0.0.0'], h.deps)).toBe(0);
    const running = h.running()!;
    toClose.push(() => running.close());
    expect(h.err.join('')).toMatch(/listening on 0\.0\.0\.0, but only loopback Host names .* --allowed-hosts/);
    expect(hostNote(parseConfig(['--host', '0.0.0.0', '--allowed-hosts', 'box.lan'], {}))).toBeNull();
    expect(hostNote(parseConfig(['--host', '0.0.0.0', '--public-url', 'http://box.lan:8080'], {}))).toBeNull();
    expect(hostNote(parseConfig(['--host', '::1'], {}))).toBeNull();
    expect(hostNote(parseConfig([], {}))).toBeNull();
  });

  it('unknown command: exit 1', async () => {
    const h = harness();
    expect(await main(['frobnicate'], h.deps)).toBe(1);
    expect(h.err.join('')).toContain('unknown command "frobnicate"');
  });

  it('serve (default command): builds the service from the config, listens, prints one line', async () => {
    const h = harness({ env: { WEBCHAT_LOG_LEVEL: 'silent', WEBCHAT_QUEUE_DEPTH: '3' } });
    expect(await main(['--port', '0', '--db', ':memory:', '--root', '/x', '--ws-send-buffer', '1MiB'], h.deps)).toBe(0);
    const running = h.running()!;
    toClose.push(() => running.close());
    expect(h.out).toEqual([`moments-webchat listening on http://127.0.0.1:${running.port}/x/ (profile: demo)\n`]);
    expect(h.created).toHaveLength(1);
    expect(h.created[0]!.opts).toMatchObject({
      dbPath: ':memory:',
      profilesPath: null,
      queueDepth: 3,
      wsSendBufferBytes: 1024 * 1024,
      evictIdleMs: 300_000,
      commitWindowMs: 2,
    });
    const res = await fetch(`${running.url}healthz`);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('close() closes the service, then the app; idempotent', async () => {
    const h = harness();
    await main(['serve', '--port', '0'], h.deps);
    const running = h.running()!;
    const service = h.created[0]!.service;
    await Promise.all([running.close(), running.close()]);
    expect(service.calls.filter((c) => c.method === 'close')).toHaveLength(1);
    await expect(fetch(`${running.url}healthz`)).rejects.toThrow();
  });

  it('port in use: exit 1, says so, closes the service', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    toClose.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const h = harness();
    expect(await main(['--port', String(port)], h.deps)).toBe(1);
    expect(h.err.join('')).toMatch(/cannot start: address already in use.*--port/);
    expect(h.created[0]!.service.calls.some((c) => c.method === 'close')).toBe(true);
  });

  it('a failing service factory (e.g. a bad profiles file): exit 1 with its message', async () => {
    const h = harness({
      createChatService: async () => {
        throw new Error('profiles.yaml: profile "x": unknown provider "nope"');
      },
    });
    expect(await main(['--port', '0'], h.deps)).toBe(1);
    expect(h.err.join('')).toBe('moments-webchat: cannot start: profiles.yaml: profile "x": unknown provider "nope"\n');
  });

  it('serve() reports the URL of an IPv6 host in brackets', async () => {
    let running: RunningServer;
    try {
      running = await serve(parseConfig(['--port', '0', '--host', '::1', '--log-level', 'silent'], {}), {
        createChatService: async () => fakeChatService(),
      });
    } catch {
      return; // no IPv6 loopback here
    }
    toClose.push(() => running.close());
    expect(running.url).toBe(`http://[::1]:${running.port}/`);
  });
});

describe('bin/moments-webchat.mjs', () => {
  it('--help through tsx', () => {
    const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--ws-pong-timeout');
    expect(r.stdout).toContain('WEBCHAT_DB');
  });

  it('bad flag → exit 1 and the message on stderr', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--queue-depth', 'lots'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--queue-depth: "lots" must be a non-negative integer');
    expect(r.stdout).toBe('');
  });
});
