import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTestRedis, deleteKeys, testKeys, waitFor } from '../../../test/helpers/redis';
import { OwnRedisServer } from '../../../test/helpers/redis-server';
import { LeaseManager, type LeaseLostReason } from './lease-manager';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';

let conn: RedisConnection;
let keys: RedisKeys;
const managers: LeaseManager[] = [];

function manager(instanceId: string, ttlMs = 300): LeaseManager {
  const m = new LeaseManager(conn, { keys, instanceId, ttlMs });
  managers.push(m);
  return m;
}

beforeEach(async () => {
  conn = await connectTestRedis();
  keys = testKeys();
});

afterEach(async () => {
  for (const m of managers.splice(0)) await m.close({ release: false });
  await deleteKeys(conn, keys.prefix);
  await conn.close();
});

describe('LeaseManager', () => {
  it('acquires a free lease, refuses a held one, and reports the owner', async () => {
    const a = manager('A');
    const b = manager('B');
    const got = await a.acquire('c1');
    expect(got.acquired).toBe(true);
    const refused = await b.acquire('c1');
    expect(refused).toMatchObject({ acquired: false, owner: { instanceId: 'A' } });
    const owner = await b.owner('c1');
    expect(owner?.instanceId).toBe('A');
    expect(owner?.token).toBe(got.acquired ? got.lease.token : -1);
    expect(await b.owner('nobody')).toBeNull();
    // acquiring again on the holder returns the same lease
    expect(await a.acquire('c1')).toEqual(got);
  });

  it('renews: the lease outlives several TTLs while its holder runs', async () => {
    const a = manager('A', 300);
    const b = manager('B', 300);
    await a.acquire('c1');
    const lost: string[] = [];
    a.onLost((c) => lost.push(c));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await b.acquire('c1')).acquired).toBe(false);
    expect(a.held('c1')).toBeDefined();
    expect(lost).toEqual([]);
  });

  it('an expired lease is taken by another instance with a larger fencing token', async () => {
    const a = manager('A', 200);
    const b = manager('B', 200);
    const first = await a.acquire('c1');
    if (!first.acquired) throw new Error('A should hold c1');
    // A stops renewing (a frozen process): its lease expires in Redis and B takes it over.
    await a.close({ release: false });
    await waitFor(async () => (await b.acquire('c1')).acquired, 'B to take c1 after expiry');
    const taken = b.held('c1')!;
    expect(taken.token).toBeGreaterThan(first.lease.token);
    expect((await b.owner('c1'))?.instanceId).toBe('B');
  });

  it('emits lost (refused) when another owner holds the key at renewal time', async () => {
    const a = manager('A', 300);
    await a.acquire('c1');
    const lost: [string, LeaseLostReason][] = [];
    a.onLost((c, r) => lost.push([c, r]));
    // Another instance overwrites the key (as if A's lease had expired and B had taken it).
    await conn.command(keys.owner('c1'), ['SET', keys.owner('c1'), '999:B', 'PX', '5000']);
    await waitFor(() => lost.length > 0, 'lost event');
    expect(lost).toEqual([['c1', 'refused']]);
    expect(a.held('c1')).toBeUndefined();
  });

  it('emits lost (expired) when renewals cannot reach Redis within the TTL', async () => {
    const own = await connectTestRedis();
    const a = new LeaseManager(own, { keys, instanceId: 'A', ttlMs: 300 });
    managers.push(a);
    await a.acquire('c1');
    const lost: [string, LeaseLostReason][] = [];
    a.onLost((c, r) => lost.push([c, r]));
    own.destroy(); // Redis unreachable from A's point of view: every renewal fails
    await waitFor(() => lost.length > 0, 'lost event');
    expect(lost).toEqual([['c1', 'expired']]);
  });

  it('fencing tokens strictly increase across owners and stay above a given floor', async () => {
    const tokens: number[] = [];
    for (let i = 0; i < 6; i++) {
      const m = manager(i % 2 === 0 ? 'A' : 'B');
      const got = await m.acquire('c1');
      if (!got.acquired) throw new Error('free lease not acquired');
      tokens.push(got.lease.token);
      expect(await m.release('c1')).toBe(true);
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    // Redis lost its counter (restart without persistence): the floor from the store wins.
    await conn.command(keys.fence('c1'), ['DEL', keys.fence('c1')]);
    const got = await manager('C').acquire('c1', { fenceFloor: tokens.at(-1)! });
    expect(got.acquired && got.lease.token).toBe(tokens.at(-1)! + 1);
  });

  it('release works only for the holder', async () => {
    const a = manager('A', 5000);
    const b = manager('B', 5000);
    await a.acquire('c1');
    expect(await b.release('c1')).toBe(false); // B holds nothing
    // Even a stale holder (same instance, older token) cannot delete the newer lease.
    await a.acquire('c2');
    await conn.command(keys.owner('c2'), ['SET', keys.owner('c2'), '77:B', 'PX', '5000']);
    expect(await a.release('c2')).toBe(false);
    expect((await a.owner('c2'))?.instanceId).toBe('B');
    expect(await a.release('c1')).toBe(true);
    expect(await a.owner('c1')).toBeNull();
    expect((await b.acquire('c1')).acquired).toBe(true);
  });

  it('many conversations renew together without losses', async () => {
    const a = manager('A', 900);
    const ids = Array.from({ length: 200 }, (_, i) => `conv-${i}`);
    const results = await Promise.all(ids.map((c) => a.acquire(c)));
    expect(results.every((r) => r.acquired)).toBe(true);
    const lost: string[] = [];
    a.onLost((c) => lost.push(c));
    await new Promise((r) => setTimeout(r, 1000));
    expect(lost).toEqual([]);
    expect(a.heldConversations().sort()).toEqual([...ids].sort());
  });
});

describe('LeaseManager across a Redis restart (SHUTDOWN NOSAVE)', () => {
  it('the holder loses its leases, and the next owner gets a token above the floor although the counter was lost', async () => {
    const server = await OwnRedisServer.start();
    const own = await connectTestRedis(server.url);
    try {
      const a = new LeaseManager(own, { keys, instanceId: 'A', ttlMs: 400 });
      managers.push(a);
      const got = await a.acquire('c1');
      if (!got.acquired) throw new Error('free lease not acquired');
      const lost: string[] = [];
      a.onLost((c) => lost.push(c));
      await server.shutdown();
      await server.start();
      await waitFor(() => lost.length > 0, 'lost after the restart');
      expect(lost).toEqual(['c1']);
      await waitFor(() => own.ready, 'reconnected');
      const b = new LeaseManager(own, { keys, instanceId: 'B', ttlMs: 400 });
      managers.push(b);
      // The runtime passes the last token the store accepted as the floor.
      const again = await b.acquire('c1', { fenceFloor: got.lease.token });
      expect(again.acquired && again.lease.token).toBe(got.lease.token + 1);
    } finally {
      for (const m of managers.splice(0)) await m.close({ release: false });
      own.destroy();
      await server.stop();
    }
  });
});
