/**
 * Redis key names for scale-out. Every key of one conversation carries the conversation id as
 * its hash tag (`wc:{<convId>}:owner`, `:fence`, `:log`), so a Lua script touching several of
 * them, or one XREAD over them, stays in one Redis Cluster slot. The keys of one instance (its
 * command stream, its reply stream, its reader's wake stream) share the instance id as their
 * hash tag for the same reason: one blocking XREAD can read the command and reply streams
 * together. The prefix (default `wc:`) lets deployments share a Redis and lets every test use
 * its own.
 */
export const DEFAULT_KEY_PREFIX = 'wc:';

export class RedisKeyError extends Error {
  readonly code = 'invalid_redis_key';
  constructor(message: string) {
    super(message);
    this.name = 'RedisKeyError';
  }
}

export interface RedisKeys {
  readonly prefix: string;
  /** Lease: `SET NX PX`, value `<token>:<instanceId>`. */
  owner(convId: string): string;
  /** Fencing-token counter (INCR); never expires. */
  fence(convId: string): string;
  /** Stream of committed frames (`seq`, `json` fields). */
  log(convId: string): string;
  /** Commands forwarded to this instance. */
  commands(instanceId: string): string;
  /** Answers to the commands this instance forwarded. */
  replies(instanceId: string): string;
  /** Written to wake this instance's blocked frame reader (standalone Redis). */
  wake(instanceId: string): string;
}

/** An id used inside a hash tag must not contain braces (they would move the tag). */
function tagged(kind: string, id: string): string {
  if (id.length === 0 || /[{}]/.test(id)) throw new RedisKeyError(`a ${kind} id used in a Redis key must be non-empty and contain no braces: ${JSON.stringify(id)}`);
  return `{${id}}`;
}

export function redisKeys(prefix: string = DEFAULT_KEY_PREFIX): RedisKeys {
  if (/[{}]/.test(prefix)) throw new RedisKeyError(`the Redis key prefix must contain no braces: ${JSON.stringify(prefix)}`);
  return {
    prefix,
    owner: (c) => `${prefix}${tagged('conversation', c)}:owner`,
    fence: (c) => `${prefix}${tagged('conversation', c)}:fence`,
    log: (c) => `${prefix}${tagged('conversation', c)}:log`,
    commands: (i) => `${prefix}cmd:${tagged('instance', i)}`,
    replies: (i) => `${prefix}reply:${tagged('instance', i)}`,
    wake: (i) => `${prefix}wake:${tagged('instance', i)}`,
  };
}
