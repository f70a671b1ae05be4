import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_PREFIX, RedisKeyError, redisKeys } from './redis-keys';

describe('redisKeys', () => {
  it('puts every key of one conversation under the conversation id as hash tag, with the prefix', () => {
    const k = redisKeys();
    expect(DEFAULT_KEY_PREFIX).toBe('wc:');
    expect([k.owner('c1'), k.fence('c1'), k.log('c1')]).toEqual(['wc:{c1}:owner', 'wc:{c1}:fence', 'wc:{c1}:log']);
  });

  it('puts the command, reply and wake streams of one instance under the instance id as hash tag', () => {
    const k = redisKeys('t1:');
    expect([k.commands('host-1-2'), k.replies('host-1-2'), k.wake('host-1-2')]).toEqual(['t1:cmd:{host-1-2}', 't1:reply:{host-1-2}', 't1:wake:{host-1-2}']);
  });

  it('refuses ids and prefixes that would move the hash tag', () => {
    const k = redisKeys();
    for (const bad of ['', 'a{b', 'a}b', '{x}']) {
      expect(() => k.log(bad)).toThrow(RedisKeyError);
      expect(() => k.commands(bad)).toThrow(RedisKeyError);
    }
    expect(() => redisKeys('x{y}:')).toThrow(RedisKeyError);
  });
});
