import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestRedis, waitFor } from '../../../test/helpers/redis';
import { OwnRedisServer } from '../../../test/helpers/redis-server';
import { parseRedisTarget, reconnectDelay, RedisConfigError, type RedisConnection } from './redis-connection';

describe('parseRedisTarget', () => {
  it('one redis:// or rediss:// URL is standalone; several URLs (repeated or comma-separated) or the cluster flag mean a cluster', () => {
    expect(parseRedisTarget(['redis://127.0.0.1:6379'])).toEqual({ mode: 'standalone', urls: ['redis://127.0.0.1:6379'] });
    expect(parseRedisTarget(['rediss://user:pw@cache.example:6380/0']).mode).toBe('standalone');
    expect(parseRedisTarget(['redis://a:7000,redis://b:7001', 'redis://c:7002'])).toEqual({ mode: 'cluster', urls: ['redis://a:7000', 'redis://b:7001', 'redis://c:7002'] });
    expect(parseRedisTarget(['redis://a:7000'], true).mode).toBe('cluster');
  });

  it('refuses what is not a Redis URL', () => {
    for (const bad of [[], [''], ['localhost:6379'], ['http://a:6379'], ['redis://'], ['redis://a:1,rediss://b:2']]) {
      expect(() => parseRedisTarget(bad)).toThrow(RedisConfigError);
    }
  });
});

describe('reconnectDelay', () => {
  it('grows with the attempts, stays within the cap, never gives up', () => {
    for (let retries = 0; retries < 50; retries++) {
      const d = reconnectDelay(retries, 50, 2000);
      const full = Math.min(2000, 50 * 2 ** retries);
      expect(d).toBeGreaterThanOrEqual(full / 2 - 1);
      expect(d).toBeLessThanOrEqual(full + 1);
    }
  });
});

describe('RedisConnection health', () => {
  let server: OwnRedisServer;
  let conn: RedisConnection;
  beforeAll(async () => {
    server = await OwnRedisServer.start();
    conn = await connectTestRedis(server.url);
  });
  afterAll(async () => {
    conn?.destroy();
    await server?.stop();
  });

  it('is ready while Redis is up, not ready while it is down (commands fail at once), and ready again by itself', async () => {
    expect(conn.ready).toBe(true);
    expect(await conn.command(undefined, ['PING'])).toBe('PONG');
    await server.shutdown();
    await waitFor(() => !conn.ready, 'not ready');
    await expect(conn.command(undefined, ['PING'])).rejects.toThrow();
    expect(conn.lastError).not.toBeNull();
    await server.start();
    await waitFor(() => conn.ready, 'ready again');
    expect(await conn.command(undefined, ['PING'])).toBe('PONG');
  });

  it('duplicate() opens a separate connection (for blocking reads)', async () => {
    const dup = await conn.duplicate('dup-test');
    try {
      const [mine, theirs] = await Promise.all([conn.command<number>(undefined, ['CLIENT', 'ID']), dup.command<number>(undefined, ['CLIENT', 'ID'])]);
      expect(mine).not.toBe(theirs);
      // A blocking read on the duplicate does not hold the original up.
      const blocked = dup.command(undefined, ['BLPOP', 'nothing-here', '2']);
      expect(await conn.command(undefined, ['PING'])).toBe('PONG');
      dup.destroy();
      await blocked.catch(() => {});
    } finally {
      dup.destroy();
    }
  });
});
