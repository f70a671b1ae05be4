import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type RunningServer } from '../../src/server/cli';
import { parseConfig } from '../../src/server/config';
import { Api } from './http';
import { databaseArgs } from './pg-mode';

/**
 * Real servers for integration tests: in process (`serve` on port 0, a SQLite file in a temp
 * directory) or as a child process (`bin/moments-webchat.mjs serve`) where a real crash is
 * needed. Both listen on 127.0.0.1 only. In a file that called `usePostgresMode()`
 * (pg-mode.ts) both run on PostgreSQL instead, one schema per database path.
 */

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The test profiles: `fast` (default, no chunk delay, busy_policy/step_mode overridable), `rej` (busy policy reject). */
export const TEST_PROFILES = {
  default: 'fast',
  profiles: [
    { slug: 'fast', provider: 'demo', chunk_delay_ms: 0, allow_overrides: ['busy_policy', 'step_mode'] },
    { slug: 'rej', provider: 'demo', chunk_delay_ms: 0, busy_policy: 'reject' },
  ],
};

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'mw-int-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** Writes the profiles document (JSON is YAML) into `dir` and returns its path. */
export function writeProfiles(dir: TempDir, doc: unknown = TEST_PROFILES, name = 'profiles.json'): string {
  const path = dir.file(name);
  writeFileSync(path, JSON.stringify(doc, null, 2));
  return path;
}

export interface TestServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  base: string;
  /** `ws://127.0.0.1:PORT`. */
  wsBase: string;
  port: number;
  api: Api;
  dbPath: string;
  running: RunningServer;
  close(): Promise<void>;
}

export interface StartOptions {
  /** SQLite file (default `<dir>/webchat.db`). */
  db?: string;
  /** Profiles document (default TEST_PROFILES); null = built-in profiles only. */
  profiles?: unknown;
  /** More CLI flags, e.g. `['--queue-depth', '2']`. */
  args?: string[];
  /** Run on this PostgreSQL URL (`--database-url`) instead of the SQLite file. */
  databaseUrl?: string;
}

/** Starts a server in this process: `serve(parseConfig([...]))` on a random port. */
export async function startServer(dir: TempDir, opts: StartOptions = {}): Promise<TestServer> {
  const dbPath = opts.db ?? dir.file('webchat.db');
  const database = opts.databaseUrl ? ['--database-url', opts.databaseUrl] : databaseArgs(dbPath);
  const argv = ['--port', '0', '--host', '127.0.0.1', '--db', dbPath, ...database, '--log-level', 'silent'];
  if (opts.profiles !== null) argv.push('--profiles', writeProfiles(dir, opts.profiles ?? TEST_PROFILES));
  argv.push(...(opts.args ?? []));
  const running = await serve(parseConfig(argv, {}), { handleSignals: false });
  const base = `http://127.0.0.1:${running.port}`;
  return {
    base,
    wsBase: `ws://127.0.0.1:${running.port}`,
    port: running.port,
    api: new Api(base),
    dbPath,
    running,
    close: () => running.close(),
  };
}

export interface ChildServer {
  base: string;
  wsBase: string;
  port: number;
  api: Api;
  child: ChildProcess;
  /** Everything the child wrote to stderr. */
  stderr(): string;
  /** `kill -9`; resolves when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Environment of a child server: no provider keys, silent logs, plus `extra` (test hooks). */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OPENAI|ANTHROPIC|GEMINI|GOOGLE)_/.test(k) || k.startsWith('WEBCHAT_') || k === 'DATABASE_URL') continue;
    env[k] = v;
  }
  env.WEBCHAT_LOG_LEVEL = 'silent';
  return { ...env, ...extra };
}

/** Starts `node bin/moments-webchat.mjs serve --port 0 --db <db> …` and waits for its listening line. */
export function spawnServer(opts: { db: string; profilesPath?: string; args?: string[]; timeoutMs?: number; env?: Record<string, string> }): Promise<ChildServer> {
  const args = [join(REPO_ROOT, 'bin/moments-webchat.mjs'), 'serve', '--port', '0', '--host', '127.0.0.1', '--db', opts.db, ...databaseArgs(opts.db)];
  if (opts.profilesPath) args.push('--profiles', opts.profilesPath);
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child server did not start within ${opts.timeoutMs ?? 40_000} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, opts.timeoutMs ?? 40_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited (${code}) before listening; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      stdout += String(d);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      const base = `http://127.0.0.1:${port}`;
      resolvePromise({
        base,
        wsBase: `ws://127.0.0.1:${port}`,
        port,
        api: new Api(base),
        child,
        stderr: () => stderr,
        kill9: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}
