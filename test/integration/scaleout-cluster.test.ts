import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBus } from '../../src/webchat/scaleout/command-bus';
import { FramePublisher } from '../../src/webchat/scaleout/frame-bus';
import { FrameReader } from '../../src/webchat/scaleout/frame-reader';
import { LeaseManager } from '../../src/webchat/scaleout/lease-manager';
import type { RedisConnection } from '../../src/webchat/scaleout/redis-connection';
import { DeliveryLog, MemoryFrameStore, seededRandom } from '../../src/webchat/scaleout/testing/memory-frame-store';
import { connectTestRedis, testKeys, waitFor } from '../helpers/redis';
import { RedisClusterFixture } from '../helpers/redis-cluster';

let cluster: RedisClusterFixture;
let a: RedisConnection;
let b: RedisConnection;

beforeAll(async () => {
  cluster = await RedisClusterFixture.start();
  a = await connectTestRedis(cluster.urls); // several URLs: cluster mode
  b = await connectTestRedis([cluster.urls[0]!], true); // one seed URL and the cluster flag
}, 60_000);

afterAll(async () => {
  a?.destroy();
  b?.destroy();
  await cluster?.stop();
});

describe('scale-out building blocks on a 3-master Redis Cluster', () => {
  it('connects in cluster mode and spreads conversations over several slots and masters', async () => {
    expect(a.target.mode).toBe('cluster');
    expect(b.target.mode).toBe('cluster');
    expect(a.ready && b.ready).toBe(true);
    const keys = testKeys();
    const slots = new Set(await Promise.all(Array.from({ length: 30 }, (_, i) => a.keySlot(keys.log(`c${i}`)))));
    expect(slots.size).toBeGreaterThan(10);
    // The owner, fence and log keys of one conversation share a slot (the scripts rely on it).
    const one = await Promise.all([keys.owner('x'), keys.fence('x'), keys.log('x')].map((k) => a.command<number>(k, ['CLUSTER', 'KEYSLOT', k])));
    expect(new Set(one).size).toBe(1);
  });

  it('leases: one owner per conversation, increasing fencing tokens, takeover after expiry', async () => {
    const keys = testKeys();
    const la = new LeaseManager(a, { keys, instanceId: 'A', ttlMs: 300 });
    const lb = new LeaseManager(b, { keys, instanceId: 'B', ttlMs: 300 });
    try {
      const convs = Array.from({ length: 20 }, (_, i) => `c${i}`);
      const firsts = await Promise.all(convs.map((c) => la.acquire(c)));
      expect(firsts.every((r) => r.acquired)).toBe(true);
      const refused = await Promise.all(convs.map((c) => lb.acquire(c)));
      expect(refused.every((r) => !r.acquired && r.owner?.instanceId === 'A')).toBe(true);
      await la.close({ release: false }); // A freezes
      await waitFor(async () => (await Promise.all(convs.map((c) => lb.acquire(c)))).every((r) => r.acquired), 'B takes every conversation over');
      for (const [i, c] of convs.entries()) {
        const first = firsts[i]!;
        expect(lb.held(c)!.token).toBeGreaterThan(first.acquired ? first.lease.token : Infinity);
      }
    } finally {
      await la.close();
      await lb.close();
    }
  });

  it('frames: one reader on instance B delivers 30 conversations (many slots) in order, exactly once, gaps filled', async () => {
    const keys = testKeys();
    const store = new MemoryFrameStore();
    const log = new DeliveryLog();
    const pub = new FramePublisher(a, { keys });
    const reader = await FrameReader.start(b, { keys, instanceId: 'B', deliver: log.deliver, fillGap: store.fillGap, pollMs: 5 });
    try {
      const convs = Array.from({ length: 30 }, (_, i) => `c${i}`);
      const random = seededRandom(99);
      for (const c of convs.slice(0, 15)) reader.subscribe(c, 0);
      for (let step = 0; step < 40; step++) {
        if (step === 20) for (const c of convs.slice(15)) reader.subscribe(c, store.frames(c).length);
        const batch = Array.from({ length: 1 + Math.floor(random() * 10) }, () => store.commit(convs[Math.floor(random() * convs.length)]!));
        // Now and then a frame is committed but its XADD is lost: the reader must fill it from the store.
        await pub.publish(batch.filter(() => random() > 0.05));
      }
      for (const c of convs) await pub.publish([store.commit(c)]);
      await waitFor(() => convs.every((c) => reader.lastSeq(c) === store.frames(c).length), 'every frame delivered');
      for (const c of convs) {
        const seqs = log.seqs(c);
        const from = seqs[0]!;
        expect(seqs).toEqual(store.frames(c).slice(from - 1).map((f) => f.seq));
        expect(log.byConv.get(c)!.map((f) => f.json)).toEqual(store.frames(c).slice(from - 1).map((f) => f.json));
      }
      expect(reader.stats.filledFrames).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });

  it('commands: a round trip between two instances through their command and reply streams', async () => {
    const keys = testKeys();
    const owner = await CommandBus.start(a, { keys, instanceId: 'A', handle: (c) => ({ status: 200, body: JSON.stringify({ echo: c.payload }) }), blockMs: 60_000 });
    const sender = await CommandBus.start(b, { keys, instanceId: 'B', handle: () => ({ status: 500, body: '{}' }), blockMs: 60_000 });
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => sender.send('A', 'echo', { n })));
      expect(replies.map((r) => JSON.parse(r.body).echo.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    } finally {
      await owner.close();
      await sender.close();
    }
  });
});
