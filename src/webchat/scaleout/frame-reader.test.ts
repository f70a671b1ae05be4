import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTestRedis, deleteKeys, testKeys, waitFor } from '../../../test/helpers/redis';
import { FramePublisher } from './frame-bus';
import { FrameReader } from './frame-reader';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';
import { DeliveryLog, MemoryFrameStore, seededRandom } from './testing/memory-frame-store';

let conn: RedisConnection;
let keys: RedisKeys;
let store: MemoryFrameStore;
let log: DeliveryLog;
const readers: FrameReader[] = [];

async function reader(options: { blockMs?: number } = {}): Promise<FrameReader> {
  const r = await FrameReader.start(conn, { keys, instanceId: 'B', deliver: log.deliver, fillGap: store.fillGap, blockMs: options.blockMs ?? 60_000 });
  readers.push(r);
  return r;
}

/** Commits `n` frames of `convId` to the store and publishes them (what an owner does). */
async function commitAndPublish(pub: FramePublisher, convId: string, n: number): Promise<string[]> {
  const batch = Array.from({ length: n }, () => store.commit(convId));
  return pub.publish(batch);
}

function expectExact(convId: string, from: number, to: number): void {
  expect(log.seqs(convId)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
  const frames = log.byConv.get(convId) ?? [];
  for (const f of frames) expect(f.json).toBe(store.frames(convId)[f.seq - 1]!.json);
}

beforeEach(async () => {
  conn = await connectTestRedis();
  keys = testKeys();
  store = new MemoryFrameStore();
  log = new DeliveryLog();
});

afterEach(async () => {
  for (const r of readers.splice(0)) await r.close();
  await deleteKeys(conn, keys.prefix);
  await conn.close();
});

describe('FramePublisher', () => {
  it('returns one increasing stream id per frame, in batch order, across conversations', async () => {
    const pub = new FramePublisher(conn, { keys });
    const batch = [store.commit('a'), store.commit('b'), store.commit('a'), store.commit('b'), store.commit('a')];
    const ids = await pub.publish(batch);
    expect(ids).toHaveLength(5);
    const entries = await conn.command<[string, string[]][]>(keys.log('a'), ['XRANGE', keys.log('a'), '-', '+']);
    expect(entries.map((e) => e[0])).toEqual([ids[0], ids[2], ids[4]]);
    expect(entries.map((e) => e[1])).toEqual([1, 2, 3].map((seq) => ['seq', String(seq), 'json', store.frames('a')[seq - 1]!.json]));
  });
});

describe('FrameReader (standalone Redis)', () => {
  it('delivers every conversation in order, exactly once, under a fixed-seed random schedule with late subscribers', async () => {
    const random = seededRandom(12_345);
    const pub = new FramePublisher(conn, { keys });
    const r = await reader();
    const convs = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const subscribed = new Set<string>();
    const firstSeen = new Map<string, number>();
    for (let step = 0; step < 60; step++) {
      // Subscribe some conversations late, after the frames they already "have" (as a socket that
      // replayed from the store would).
      for (const c of convs) {
        if (!subscribed.has(c) && random() < 0.15) {
          const have = store.frames(c).length;
          firstSeen.set(c, have + 1);
          r.subscribe(c, have);
          subscribed.add(c);
        }
      }
      const batch = [];
      for (let k = 0; k < 1 + Math.floor(random() * 20); k++) batch.push(store.commit(convs[Math.floor(random() * convs.length)]!));
      await pub.publish(batch);
      if (random() < 0.3) await new Promise((res) => setTimeout(res, 1));
    }
    for (const c of convs) if (!subscribed.has(c)) {
      firstSeen.set(c, store.frames(c).length + 1);
      r.subscribe(c, store.frames(c).length);
      subscribed.add(c);
    }
    for (const c of convs) for (let i = 0; i < 3; i++) await pub.publish([store.commit(c)]);
    await waitFor(() => convs.every((c) => r.lastSeq(c) === store.frames(c).length), 'every frame delivered');
    for (const c of convs) {
      expectExact(c, firstSeen.get(c)!, store.frames(c).length);
      const ids = (log.byConv.get(c) ?? []).filter((f) => f.streamId !== null).map((f) => f.streamId!);
      expect(ids.length).toBeGreaterThan(0);
    }
  });

  it('a subscribe while the read blocks takes effect at once; an unsubscribed conversation gets nothing more', async () => {
    const pub = new FramePublisher(conn, { keys });
    const r = await reader({ blockMs: 60_000 }); // far longer than the test: only the wake can end the block
    r.subscribe('a', 0);
    await commitAndPublish(pub, 'a', 2);
    await waitFor(() => log.count('a') === 2, 'a delivered');
    await new Promise((res) => setTimeout(res, 50)); // the reader is blocked again
    r.subscribe('b', 0);
    await commitAndPublish(pub, 'b', 3);
    await waitFor(() => log.count('b') === 3, 'b delivered although the reader was blocked when it subscribed');
    r.unsubscribe('a');
    await commitAndPublish(pub, 'a', 2);
    await commitAndPublish(pub, 'b', 1);
    await waitFor(() => log.count('b') === 4, 'b delivered after a was dropped');
    expectExact('a', 1, 2);
    expectExact('b', 1, 4);
  });

  it('fills a gap (entries missing from Redis) from the store before delivering what follows', async () => {
    const pub = new FramePublisher(conn, { keys });
    const r = await reader();
    r.subscribe('a', 0);
    await commitAndPublish(pub, 'a', 3);
    await waitFor(() => log.count('a') === 3, 'first frames');
    const before = { ...r.stats };
    // Frames 4..7 are committed but never reach Redis (an XADD that failed, entries trimmed).
    for (let i = 0; i < 4; i++) store.commit('a');
    await commitAndPublish(pub, 'a', 3);
    await waitFor(() => log.count('a') === 10, 'frames after the gap');
    expectExact('a', 1, 10);
    expect(r.stats.gapFills - before.gapFills).toBe(1);
    expect(r.stats.filledFrames - before.filledFrames).toBe(4);
    expect(log.byConv.get('a')!.slice(3, 7).every((f) => f.streamId === null)).toBe(true);
  });

  it('a subscriber joining after the stream was trimmed gets the trimmed range from the store', async () => {
    const pub = new FramePublisher(conn, { keys });
    await commitAndPublish(pub, 'a', 200);
    await conn.command(keys.log('a'), ['XTRIM', keys.log('a'), 'MAXLEN', '5']);
    const r = await reader();
    r.subscribe('a', 10);
    await commitAndPublish(pub, 'a', 5);
    await waitFor(() => r.lastSeq('a') === 205, 'all frames');
    expectExact('a', 11, 205);
  });

  it('skips duplicate entries', async () => {
    const pub = new FramePublisher(conn, { keys });
    const r = await reader();
    r.subscribe('a', 0);
    const frames = [store.commit('a'), store.commit('a')];
    await pub.publish(frames);
    await pub.publish(frames); // published twice (a retried XADD)
    await commitAndPublish(pub, 'a', 1);
    await waitFor(() => r.lastSeq('a') === 3, 'all frames');
    expectExact('a', 1, 3);
    expect(r.stats.duplicatesSkipped).toBe(2);
  });

  it('while the store cannot fill a gap, nothing after the gap is delivered; then everything is, in order', async () => {
    const pub = new FramePublisher(conn, { keys });
    const r = await reader();
    r.subscribe('a', 0);
    r.subscribe('b', 0);
    await commitAndPublish(pub, 'a', 2);
    await waitFor(() => log.count('a') === 2, 'first frames');
    store.failing.add('a');
    store.commit('a'); // seq 3 only in the store
    await commitAndPublish(pub, 'a', 2);
    await commitAndPublish(pub, 'b', 2); // other conversations keep flowing
    await waitFor(() => log.count('b') === 2 && store.fills >= 2, 'b delivered and fills attempted');
    expect(log.seqs('a')).toEqual([1, 2]);
    store.failing.delete('a');
    await waitFor(() => r.lastSeq('a') === 5, 'a after the store recovered');
    expectExact('a', 1, 5);
    expectExact('b', 1, 2);
  });
});
