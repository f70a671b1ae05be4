import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTestRedis, deleteKeys, testKeys, waitFor } from '../../../test/helpers/redis';
import { CommandBus, CommandTimeoutError, type CommandHandler, type ForwardedCommand } from './command-bus';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';

let conn: RedisConnection;
let keys: RedisKeys;
const buses: CommandBus[] = [];

async function bus(instanceId: string, handle: CommandHandler): Promise<CommandBus> {
  const b = await CommandBus.start(conn, { keys, instanceId, handle, blockMs: 60_000 });
  buses.push(b);
  return b;
}

const refuse: CommandHandler = () => ({ status: 500, body: '{}' });

beforeEach(async () => {
  conn = await connectTestRedis();
  keys = testKeys();
});

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  await deleteKeys(conn, keys.prefix);
  await conn.close();
});

describe('CommandBus', () => {
  it("returns the owner's answer unchanged, status and body bytes", async () => {
    const seen: ForwardedCommand[] = [];
    const body = '{ "accepted" : true,\n "queue_position": 0, "text": "héllo ✓" }';
    await bus('A', (cmd) => {
      seen.push(cmd);
      return { status: 202, body };
    });
    const b = await bus('B', refuse);
    const reply = await b.send('A', 'prompt', { convId: 'c1', prompt: 'hi' });
    expect(reply).toEqual({ status: 202, body });
    expect(seen).toEqual([{ id: expect.any(String), from: 'B', name: 'prompt', payload: { convId: 'c1', prompt: 'hi' } }]);
  });

  it('many concurrent commands both ways each get their own answer; the owner starts them in send order', async () => {
    const order: number[] = [];
    const echo = (who: string): CommandHandler => async (cmd) => {
      const n = (cmd.payload as { n: number }).n;
      if (who === 'A') order.push(n);
      await new Promise((r) => setTimeout(r, n % 3)); // answers come back out of order
      return { status: 200, body: JSON.stringify({ who, n }) };
    };
    const a = await bus('A', echo('A'));
    const b = await bus('B', echo('B'));
    const toA = Array.from({ length: 60 }, (_, n) => b.send('A', 'echo', { n }));
    const toB = Array.from({ length: 60 }, (_, n) => a.send('B', 'echo', { n }));
    const [ra, rb] = await Promise.all([Promise.all(toA), Promise.all(toB)]);
    expect(ra.map((r) => JSON.parse(r.body))).toEqual(Array.from({ length: 60 }, (_, n) => ({ who: 'A', n })));
    expect(rb.map((r) => JSON.parse(r.body))).toEqual(Array.from({ length: 60 }, (_, n) => ({ who: 'B', n })));
    expect(order).toEqual(Array.from({ length: 60 }, (_, n) => n));
  });

  it('a handler that throws answers 500 internal', async () => {
    await bus('A', () => {
      throw new Error('boom');
    });
    const b = await bus('B', refuse);
    const reply = await b.send('A', 'cancel', {});
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'internal' } });
  });

  it('times out with command_timeout when nobody answers', async () => {
    const b = await bus('B', refuse);
    const err = await b.send('A', 'cancel', { convId: 'c1' }, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTimeoutError);
    expect(err).toMatchObject({ code: 'command_timeout', target: 'A', command: 'cancel' });
  });

  it('an owner drops a command whose sender already gave up, and runs the next one', async () => {
    const ran: string[] = [];
    await bus('A', (c) => (ran.push(c.name), { status: 200, body: '{}' }));
    const b = await bus('B', refuse);
    const key = keys.commands('A');
    // A command read only after its deadline (a slow or backlogged owner): not run.
    await conn.command(key, ['XADD', key, '*', 'id', 'stale', 'from', 'B', 'name', 'stale', 'payload', '{}', 'deadline', String(Date.now() - 1)]);
    expect((await b.send('A', 'fresh', {})).status).toBe(200);
    expect(ran).toEqual(['fresh']);
  });

  it('pending commands reject when the bus closes', async () => {
    const b = await CommandBus.start(conn, { keys, instanceId: 'B', handle: refuse, blockMs: 60_000 });
    const pending = b.send('nobody', 'ping', {}, { timeoutMs: 60_000 });
    await b.close();
    await expect(pending).rejects.toMatchObject({ code: 'command_bus_closed' });
  });

  it('keeps working across a dropped connection', async () => {
    const a = `A-${keys.prefix}`;
    await bus(a, () => ({ status: 200, body: '"pong"' }));
    const b = await bus('B', refuse);
    expect((await b.send(a, 'ping', {})).body).toBe('"pong"');
    // The server drops A's blocking connection (only that one: the test Redis is shared); it reconnects.
    const list = await conn.command<string>(undefined, ['CLIENT', 'LIST']);
    const ids = list.split('\n').filter((l) => l.includes(` name=${a}:commands `)).map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(ids).toHaveLength(1);
    await conn.command(undefined, ['CLIENT', 'KILL', 'ID', ids[0]!]);
    await waitFor(async () => (await b.send(a, 'ping', {}, { timeoutMs: 500 }).catch(() => null))?.body === '"pong"', 'a round trip after reconnect');
  });
});
