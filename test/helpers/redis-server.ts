import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort, waitFor } from './redis';

/**
 * A `redis-server` of the test's own, without persistence, on a free local port: the test can
 * `SHUTDOWN NOSAVE` it and start it again on the same port (a Redis restart that loses
 * everything, as production Redis without persistence would).
 */
export class OwnRedisServer {
  #child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'wc-redis-'));
  private constructor(readonly port: number, readonly extraArgs: readonly string[]) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extraArgs: readonly string[] = []): Promise<OwnRedisServer> {
    const s = new OwnRedisServer(await freePort(), extraArgs);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs], {
      stdio: 'ignore',
    });
    this.#child = child;
    await waitFor(() => this.ping(), `redis-server on port ${this.port}`);
  }

  async ping(): Promise<boolean> {
    const c = createClient({ url: this.url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
    c.on('error', () => {});
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      if (c.isOpen) c.destroy();
    }
  }

  /** `SHUTDOWN NOSAVE`: the server exits and everything in it is gone. */
  async shutdown(): Promise<void> {
    const child = this.#child;
    const exited = child && child.exitCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve();
    const c = createClient({ url: this.url, socket: { reconnectStrategy: false } });
    c.on('error', () => {});
    await c.connect();
    await c.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => {});
    if (c.isOpen) c.destroy();
    await exited;
    this.#child = null;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    this.#child = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
