import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store';
import { packFrames, unpackFrames } from './sqlite-wire';
import { batch, conversation, frame, tempDir, upsert } from './store-fixtures';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const SLOW_ENV = 'WEBCHAT_TEST_SLOW_COMMIT_MS';
afterEach(() => {
  delete process.env[SLOW_ENV];
});

/** Opens a store whose every commit holds its thread for `ms` (the test-only hook). */
async function slowStore(thread: boolean, name: string, ms: number): Promise<SqliteStore> {
  process.env[SLOW_ENV] = String(ms);
  const store = new SqliteStore({ path: tmp.file(name), thread });
  delete process.env[SLOW_ENV]; // captured when the store is created
  await store.migrate();
  return store;
}

/** Commits one frame while a 1 ms timer runs; returns how often the timer fired meanwhile. */
async function ticksDuringCommit(store: SqliteStore): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const committing = store.commit(batch({ conversations: [upsert(conversation('c'))], frames: [frame('c', 1)] }));
    const seen = ticks;
    await committing;
    return ticks - seen;
  } finally {
    clearInterval(timer);
  }
}

describe('SqliteStore on its worker thread', () => {
  it('a long commit does not block the event loop: timers keep firing while it runs', async () => {
    const store = await slowStore(true, 'slow-thread.db', 300);
    try {
      expect(await ticksDuringCommit(store)).toBeGreaterThan(0);
      expect((await store.readFrames('c', 0, 10)).map((f) => f.seq)).toEqual([1]); // and it committed
    } finally {
      await store.close();
    }
  });

  it('the same commit in-process holds the event loop for its whole duration (no timer fires)', async () => {
    const store = await slowStore(false, 'slow-inline.db', 300);
    try {
      expect(await ticksDuringCommit(store)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('a call after close rejects as the in-process engine does', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.close();
    await expect(store.getConversation('c')).rejects.toThrow(/closed/);
    expect(await store.ping()).toBe(false);
  });

  it('an unopenable file is refused by migrate(), not by the constructor', async () => {
    const store = new SqliteStore({ path: tmp.file('no/such\0dir/x.db') });
    await expect(store.migrate()).rejects.toThrow();
    await store.close();
  });
});

describe('packed frames (thread boundary)', () => {
  it('round-trip every field exactly, unicode and empty strings included', () => {
    const frames = [
      frame('c', 1),
      frame('conv-é', 2, { epoch: '', entityId: '', json: '{"t":"😀 \\u0000 ü"}', type: 'x', createdAtMs: 1.5 }),
      frame('c', Number.MAX_SAFE_INTEGER, { json: '' }),
    ];
    expect(unpackFrames(packFrames(frames))).toEqual(frames);
    expect(unpackFrames(packFrames([]))).toEqual([]);
  });
});
