import { createHash } from 'node:crypto';
import type { RedisConnection } from './redis-connection';

/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet (first
 * use, or after a Redis restart flushed the script cache). All keys of one call must share a
 * hash tag (one cluster slot); the first key routes the call.
 */
export class RedisScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run<T = unknown>(conn: RedisConnection, keys: readonly string[], args: readonly string[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await conn.command<T>(keys[0], ['EVALSHA', this.sha, ...tail]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return conn.command<T>(keys[0], ['EVAL', this.source, ...tail]);
    }
  }
}
