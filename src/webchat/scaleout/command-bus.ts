import { randomUUID } from 'node:crypto';
import { splitXRead, type RawEntry } from './frame-bus';
import { reconnectDelay, type RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';
import { isValidInstanceId } from './instance-id';

/**
 * Commands forwarded to a conversation's owner (runtime.md "Scale-out", Commands).
 *
 * Every instance has a command stream `<prefix>cmd:{<instanceId>}` and a reply stream
 * `<prefix>reply:{<instanceId>}`. Both carry the instance id as hash tag, so ONE blocking
 * `XREAD BLOCK … STREAMS cmd reply` on one dedicated connection serves both directions, on
 * standalone Redis and on a cluster alike: no connection per request (a BLPOP per request
 * would hold a connection for each command in flight).
 *
 * - `send(target, name, payload)` XADDs `{id, from, name, payload, deadline}` to the target's
 *   command stream and waits for the reply with that id on its own reply stream; after
 *   `timeoutMs` it rejects with `CommandTimeoutError` (code `command_timeout`).
 * - The owner's loop reads its command stream and starts the handler for each command in stream
 *   order (handlers run concurrently; each starts in order), then XADDs the handler's answer —
 *   HTTP status and body text, unchanged — to the sender's reply stream. Commands whose deadline
 *   has passed (the sender gave up) are dropped unrun. A command is run at most once: an owner
 *   that dies with commands unread leaves their senders to time out.
 */

export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** The owner's answer: HTTP status and the JSON body text, passed back unchanged. */
export interface CommandReply {
  readonly status: number;
  readonly body: string;
}

export interface ForwardedCommand {
  readonly id: string;
  /** The instance that forwarded it (its reply stream gets the answer). */
  readonly from: string;
  readonly name: string;
  readonly payload: unknown;
}

export type CommandHandler = (command: ForwardedCommand) => Promise<CommandReply> | CommandReply;

export class CommandTimeoutError extends Error {
  readonly code = 'command_timeout';
  constructor(readonly target: string, readonly command: string, readonly timeoutMs: number) {
    super(`instance ${target} did not answer ${command} within ${timeoutMs} ms`);
    this.name = 'CommandTimeoutError';
  }
}

export class CommandBusClosedError extends Error {
  readonly code = 'command_bus_closed';
  constructor() {
    super('the command bus is closed');
    this.name = 'CommandBusClosedError';
  }
}

export interface CommandBusOptions {
  readonly keys: RedisKeys;
  readonly instanceId: string;
  readonly handle: CommandHandler;
  /** Default time to wait for an answer (ms, default 5000). */
  readonly timeoutMs?: number;
  /** XREAD BLOCK timeout (ms, default 5000): only bounds how long `close` may wait. */
  readonly blockMs?: number;
  /** Approximate bound on each command and reply stream (`MAXLEN ~`, default 10 000). */
  readonly maxLen?: number;
  /** Errors the bus recovered from (Redis unreachable, a handler that threw). */
  readonly onError?: (err: unknown) => void;
}

interface Pending {
  readonly resolve: (reply: CommandReply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const INTERNAL_REPLY: CommandReply = {
  status: 500,
  body: JSON.stringify({ error: { code: 'internal', message: 'the owner failed to run the forwarded command', details: null } }),
};

function fields(raw: RawEntry): Map<string, string> {
  const m = new Map<string, string>();
  const f = raw[1] ?? [];
  for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
  return m;
}

export class CommandBus {
  readonly stats = { sent: 0, handled: 0, timeouts: 0, expiredDropped: 0, errors: 0 };
  readonly #conn: RedisConnection;
  readonly #blocking: RedisConnection;
  readonly #opts: CommandBusOptions;
  readonly #cmdKey: string;
  readonly #replyKey: string;
  readonly #maxLen: string;
  readonly #pending = new Map<string, Pending>();
  #cmdId = '0-0';
  #replyId = '0-0';
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();

  private constructor(conn: RedisConnection, blocking: RedisConnection, options: CommandBusOptions) {
    this.#conn = conn;
    this.#blocking = blocking;
    this.#opts = options;
    this.#cmdKey = options.keys.commands(options.instanceId);
    this.#replyKey = options.keys.replies(options.instanceId);
    this.#maxLen = String(options.maxLen ?? 10_000);
  }

  /** Opens the bus's dedicated blocking connection and starts reading from the streams' current ends. */
  static async start(conn: RedisConnection, options: CommandBusOptions): Promise<CommandBus> {
    if (!isValidInstanceId(options.instanceId)) throw new RangeError(`invalid instance id ${JSON.stringify(options.instanceId)}`);
    const blocking = await conn.duplicate(`${options.instanceId}:commands`);
    const bus = new CommandBus(conn, blocking, options);
    try {
      bus.#cmdId = await bus.#tail(bus.#cmdKey);
      bus.#replyId = await bus.#tail(bus.#replyKey);
    } catch (err) {
      blocking.destroy();
      throw err;
    }
    bus.#loop = bus.#run();
    return bus;
  }

  get instanceId(): string {
    return this.#opts.instanceId;
  }

  /** Forwards `name` with `payload` to instance `target` and resolves with its answer. */
  send(target: string, name: string, payload: unknown, options: { timeoutMs?: number } = {}): Promise<CommandReply> {
    if (this.#stopped) return Promise.reject(new CommandBusClosedError());
    const timeoutMs = options.timeoutMs ?? this.#opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const id = randomUUID();
    const key = this.#opts.keys.commands(target);
    return new Promise<CommandReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.stats.timeouts++;
        reject(new CommandTimeoutError(target, name, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.stats.sent++;
      const deadline = String(Date.now() + timeoutMs);
      // The PEXPIRE lets the streams of instances that are gone disappear.
      Promise.all([
        this.#conn.command(key, ['XADD', key, 'MAXLEN', '~', this.#maxLen, '*', 'id', id, 'from', this.#opts.instanceId, 'name', name, 'payload', JSON.stringify(payload ?? null), 'deadline', deadline]),
        this.#conn.command(key, ['PEXPIRE', key, '3600000']),
      ]).catch((err: unknown) => {
          const p = this.#pending.get(id);
          if (!p) return;
          this.#pending.delete(id);
          clearTimeout(p.timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  }

  /** Both connections the bus uses are up (for /readyz). */
  get ready(): boolean {
    return this.#conn.ready && this.#blocking.ready;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#blocking.destroy();
    await this.#loop;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new CommandBusClosedError());
    }
  }

  async #tail(key: string): Promise<string> {
    const raw = await this.#conn.command<RawEntry[]>(key, ['XREVRANGE', key, '+', '-', 'COUNT', '1']);
    return raw[0]?.[0] ?? '0-0';
  }

  #report(err: unknown): void {
    this.stats.errors++;
    try {
      this.#opts.onError?.(err);
    } catch {
      // ignore
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        const reply = await this.#blocking.command(this.#cmdKey, [
          'XREAD', 'COUNT', '100', 'BLOCK', String(this.#opts.blockMs ?? 5000),
          'STREAMS', this.#cmdKey, this.#replyKey, this.#cmdId, this.#replyId,
        ]);
        failures = 0;
        const got = splitXRead(reply);
        for (const raw of got.get(this.#replyKey) ?? []) {
          this.#replyId = raw[0];
          this.#onReply(fields(raw));
        }
        for (const raw of got.get(this.#cmdKey) ?? []) {
          this.#cmdId = raw[0];
          this.#onCommand(fields(raw));
        }
      } catch (err) {
        if (this.#stopped) break;
        failures++;
        this.#report(err);
        await new Promise((r) => setTimeout(r, reconnectDelay(failures, 20, 1000)));
      }
    }
  }

  #onReply(f: Map<string, string>): void {
    const p = this.#pending.get(f.get('id') ?? '');
    if (!p) return; // timed out already, or not ours
    this.#pending.delete(f.get('id')!);
    clearTimeout(p.timer);
    p.resolve({ status: Number(f.get('status')), body: f.get('body') ?? '' });
  }

  #onCommand(f: Map<string, string>): void {
    const id = f.get('id');
    const from = f.get('from');
    const name = f.get('name');
    if (!id || !from || !name) return this.#report(new Error('malformed command entry'));
    if (Number(f.get('deadline')) < Date.now()) {
      this.stats.expiredDropped++;
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(f.get('payload') ?? 'null');
    } catch {
      return this.#report(new Error(`command ${id} has a payload that is not JSON`));
    }
    this.stats.handled++;
    let answer: Promise<CommandReply>;
    try {
      answer = Promise.resolve(this.#opts.handle({ id, from, name, payload }));
    } catch (err) {
      answer = Promise.reject(err);
    }
    void answer
      .catch((err: unknown) => {
        this.#report(err);
        return INTERNAL_REPLY;
      })
      .then((r) => {
        const key = this.#opts.keys.replies(from);
        return Promise.all([
          this.#conn.command(key, ['XADD', key, 'MAXLEN', '~', this.#maxLen, '*', 'id', id, 'status', String(r.status), 'body', r.body]),
          this.#conn.command(key, ['PEXPIRE', key, '3600000']),
        ]);
      })
      .catch((err: unknown) => this.#report(err));
  }
}
