import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTestRedis, testKeys, waitFor } from '../../../test/helpers/redis';
import { OwnRedisServer } from '../../../test/helpers/redis-server';
import { FramePublisher } from './frame-bus';
import { FrameReader } from './frame-reader';
import type { RedisConnection } from './redis-connection';
import { DeliveryLog, MemoryFrameStore, seededRandom } from './testing/memory-frame-store';

let server: OwnRedisServer;
let owner: RedisConnection; // the publishing instance's connection
let watcher: RedisConnection; // the reading instance's connection

beforeAll(async () => {
  server = await OwnRedisServer.start();
  owner = await connectTestRedis(server.url);
  watcher = await connectTestRedis(server.url);
});

afterAll(async () => {
  owner?.destroy();
  watcher?.destroy();
  await server?.stop();
});

it('a Redis restart (SHUTDOWN NOSAVE, start again) mid-stream: the reader recovers by itself and delivers every frame exactly once, in order', async () => {
  const keys = testKeys();
  const store = new MemoryFrameStore();
  const log = new DeliveryLog();
  const errors: unknown[] = [];
  const pub = new FramePublisher(owner, { keys });
  const reader = await FrameReader.start(watcher, { keys, instanceId: 'B', deliver: log.deliver, fillGap: store.fillGap, onError: (e) => errors.push(e) });
  const convs = ['a', 'b', 'c', 'd', 'e'];
  for (const c of convs) reader.subscribe(c, 0);
  const random = seededRandom(7);

  /** An owner's commit: always to the store; to Redis when it is there (a failed XADD is not retried). */
  async function commitBatch(among = convs): Promise<void> {
    const batch = Array.from({ length: 1 + Math.floor(random() * 5) }, () => store.commit(among[Math.floor(random() * among.length)]!));
    await pub.publish(batch).catch(() => {});
  }

  for (let i = 0; i < 30; i++) await commitBatch();
  await waitFor(() => convs.every((c) => reader.lastSeq(c) === store.frames(c).length), 'frames before the restart');

  await server.shutdown();
  await waitFor(() => !reader.ready, 'the reader reports not ready');
  for (let i = 0; i < 10; i++) await commitBatch(); // committed while Redis is down
  await pub.publish([store.commit('e')]).catch(() => {});
  await server.start();
  await waitFor(() => owner.ready && reader.ready, 'the owner and the reader reconnected');
  // 'e' gets no frame after the restart: what it missed while Redis was down comes from the store.
  for (let i = 0; i < 30; i++) await commitBatch(['a', 'b', 'c', 'd']);

  await waitFor(() => convs.every((c) => reader.lastSeq(c) === store.frames(c).length), 'every committed frame after the restart').catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(convs.map((c) => [c, reader.lastSeq(c), store.frames(c).length]))} ${errors.map(String).join('; ')}`);
  });
  for (const c of convs) {
    expect(log.seqs(c)).toEqual(store.frames(c).map((f) => f.seq));
    expect(log.byConv.get(c)!.map((f) => f.json)).toEqual(store.frames(c).map((f) => f.json));
  }
  expect(errors.length).toBeGreaterThan(0); // it did see the outage
  expect(reader.stats.filledFrames).toBeGreaterThan(0);
  await reader.close();
});
