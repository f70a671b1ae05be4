import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './redis';

const run = promisify(execFile);

/**
 * A Redis Cluster of the test's own: three masters (`redis-server --cluster-enabled yes`, no
 * persistence) on free local ports, joined with `redis-cli --cluster create … --cluster-yes`.
 * `start()` returns once every node reports `cluster_state:ok`; `stop()` kills the nodes and
 * removes their files.
 */
export class RedisClusterFixture {
  readonly #children: ChildProcess[] = [];
  private constructor(readonly dir: string, readonly ports: readonly number[]) {}

  get urls(): string[] {
    return this.ports.map((p) => `redis://127.0.0.1:${p}`);
  }

  static async start(masters = 3): Promise<RedisClusterFixture> {
    const ports: number[] = [];
    while (ports.length < masters) {
      const p = await freePort();
      // The cluster bus listens on port + 10000: keep both free and distinct.
      if (p < 55_000 && !ports.includes(p)) ports.push(p);
    }
    const fixture = new RedisClusterFixture(mkdtempSync(join(tmpdir(), 'wc-redis-cluster-')), ports);
    try {
      for (const port of ports) {
        fixture.#children.push(
          spawn(
            'redis-server',
            ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(fixture.dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--dir', fixture.dir],
            { stdio: 'ignore' },
          ),
        );
      }
      for (const port of ports) await waitFor(async () => (await cli(port, 'PING').catch(() => '')) === 'PONG', `redis-server on ${port}`);
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { timeout: 20_000 });
      for (const port of ports) {
        await waitFor(async () => (await cli(port, 'CLUSTER', 'INFO').catch(() => '')).includes('cluster_state:ok'), `cluster_state:ok on ${port}`, 20_000);
      }
    } catch (err) {
      await fixture.stop();
      throw err;
    }
    return fixture;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    this.#children.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 });
  return stdout.trim();
}
