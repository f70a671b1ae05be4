import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { connectRedis, parseRedisTarget, type RedisConnection } from '../../src/webchat/scaleout/redis-connection';
import { redisKeys, type RedisKeys } from '../../src/webchat/scaleout/redis-keys';

/** The shared test Redis (a real server). Each test takes its own key prefix. */
export const TEST_REDIS_URL = process.env.WEBCHAT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testKeys(): RedisKeys {
  return redisKeys(`wctest:${randomUUID().slice(0, 8)}:`);
}

export function connectTestRedis(url: string | string[] = TEST_REDIS_URL, cluster = false): Promise<RedisConnection> {
  return connectRedis(parseRedisTarget(Array.isArray(url) ? url : [url], cluster), { reconnectBaseMs: 20, reconnectMaxMs: 200 });
}

/** Deletes every key under `prefix` (standalone Redis). */
export async function deleteKeys(conn: RedisConnection, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await conn.command<[string, string[]]>(undefined, ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000']);
    cursor = next;
    if (keys.length > 0) await conn.command(undefined, ['DEL', ...keys]);
  } while (cursor !== '0');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
