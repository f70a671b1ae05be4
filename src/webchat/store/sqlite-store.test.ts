import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore, StoreCommitError } from './sqlite-store';
import type { ConversationRow } from './store';
import { batch, conversation, countRows, entity, frame, idem, pause, queued, run, tempDir, upsert, SQLITE_MODES } from './store-fixtures';

// Every test runs against the engine on its worker thread and in-process.
describe.each(SQLITE_MODES)('%s', (_mode, thread) => {

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let fileCounter = 0;
function newPath(): string {
  fileCounter += 1;
  return tmp.file(`store-${fileCounter}.db`);
}

describe.each([
  ['file', () => newPath()],
  [':memory:', () => ':memory:'],
])('SqliteStore round trips (%s)', (_label, pathOf) => {
  let store: SqliteStore;
  beforeEach(async () => {
    store = new SqliteStore({ thread, path: pathOf() });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });

  it('conversations: insert create when absent, update only the listed fields when present', async () => {
    const row = conversation('c1', { principal: 'alice', stepMode: true, busyPolicy: 'reject' });
    await store.commit(batch({ conversations: [upsert(row, { title: 'ignored on insert' })] }));
    expect(await store.getConversation('c1')).toEqual(row);

    const other = conversation('c1', { title: 'not applied', runtimeKey: 'not applied', principal: 'bob' });
    await store.commit(batch({ conversations: [upsert(other, { lastActivityMs: 7_777, lastSeq: 12, stepMode: false })] }));
    expect(await store.getConversation('c1')).toEqual({ ...row, lastActivityMs: 7_777, lastSeq: 12, stepMode: false });

    await store.commit(batch({ conversations: [upsert(other, {})] }));
    expect(await store.getConversation('c1')).toEqual({ ...row, lastActivityMs: 7_777, lastSeq: 12, stepMode: false });

    await store.commit(batch({ conversations: [upsert(other, { title: 'T', runtimeKey: 'rk', busyPolicy: 'interrupt', epoch: 'ep2' })] }));
    expect(await store.getConversation('c1')).toMatchObject({ title: 'T', runtimeKey: 'rk', busyPolicy: 'interrupt', epoch: 'ep2', principal: 'alice' });
    expect(await store.getConversation('nope')).toBeNull();
  });

  it('frames: readFrames ascending after `since` up to `limit`; logHead', async () => {
    expect(await store.logHead('c1')).toEqual({ lastSeq: 0, epoch: null });
    expect(await store.readFrames('c1', 0, 10)).toEqual([]);
    const frames = Array.from({ length: 20 }, (_, i) => frame('c1', i + 1));
    await store.commit(batch({ conversations: [upsert(conversation('c1', { epoch: 'epX' }))], frames: [...frames].reverse() }));
    await store.commit(batch({ frames: [frame('c2', 1, { epoch: 'epY' })] }));

    expect(await store.readFrames('c1', 0, 1000)).toEqual(frames);
    expect(await store.readFrames('c1', 5, 3)).toEqual(frames.slice(5, 8));
    expect(await store.readFrames('c1', 20, 10)).toEqual([]);
    expect(await store.readFrames('c1', 0, 0)).toEqual([]);
    expect(await store.logHead('c1')).toEqual({ lastSeq: 20, epoch: 'epX' });
    // Frames without a conversation row: the epoch of the newest frame.
    expect(await store.logHead('c2')).toEqual({ lastSeq: 1, epoch: 'epY' });
  });

  it('runs: upsert by inference id, getRun, listOpenRuns across conversations, listRecentRuns newest first', async () => {
    await store.commit(batch({ runs: [run('c1', 'i1', { startedAtMs: 10 }), run('c2', 'i2', { startedAtMs: 20 }), run('c1', 'i3', { startedAtMs: 30 })] }));
    expect((await store.listOpenRuns()).map((r) => r.inferenceId)).toEqual(['i1', 'i2', 'i3']);

    const closed = run('c1', 'i1', { startedAtMs: 10, status: 'cancelled', reason: 'user', endedAtMs: 99, endSeq: 41 });
    await store.commit(batch({ runs: [closed] }));
    expect(await store.getRun('c1', 'i1')).toEqual(closed);
    expect(await store.getRun('c2', 'i1')).toBeNull();
    expect(await store.getRun('c1', 'missing')).toBeNull();
    expect((await store.listOpenRuns()).map((r) => r.inferenceId)).toEqual(['i2', 'i3']);
    expect((await store.listRecentRuns('c1', 10)).map((r) => r.inferenceId)).toEqual(['i3', 'i1']);
    expect((await store.listRecentRuns('c1', 1)).map((r) => r.inferenceId)).toEqual(['i3']);
    expect(await store.listRecentRuns('c3', 5)).toEqual([]);
  });

  it('pauses: upsert by pause id; listOpenPauses lists unresolved ones in creation order', async () => {
    const p1 = pause('c1', 'p1');
    const p2 = pause('c1', 'p2', { phase: 'after_tools', toolCallIds: [] });
    await store.commit(batch({ pauses: [p1, p2, pause('c2', 'p3')] }));
    expect(await store.listOpenPauses('c1')).toEqual([p1, p2]);
    await store.commit(batch({ pauses: [{ ...p1, resolution: 'continue' }] }));
    expect(await store.listOpenPauses('c1')).toEqual([p2]);
    expect(await store.listOpenPauses('c9')).toEqual([]);
  });

  it('queue: ordered by orderKey; deletes; listConversationsWithQueue', async () => {
    const a3 = queued('c1', 't3', 30, { idempotencyKey: 'k3', principal: 'alice' });
    const a1 = queued('c1', 't1', 10);
    const a0 = queued('c1', 't0', 5, { runtime: null });
    await store.commit(batch({ queueInserts: [a3, a1, queued('c2', 'u1', 7)] }));
    await store.commit(batch({ queueInserts: [a0] }));
    expect(await store.listQueue('c1')).toEqual([a0, a1, a3]);
    expect((await store.listConversationsWithQueue()).sort()).toEqual(['c1', 'c2']);

    await store.commit(batch({ queueDeletes: [{ convId: 'c1', turnId: 't1' }, { convId: 'c2', turnId: 'u1' }, { convId: 'c2', turnId: 'absent' }] }));
    expect(await store.listQueue('c1')).toEqual([a0, a3]);
    expect(await store.listConversationsWithQueue()).toEqual(['c1']);
  });

  it('idempotency: insert, get, mark ended, expire only ended records before the cutoff', async () => {
    const r1 = idem('alice', 'k1', 'c1');
    const r2 = idem('alice', 'k2', 'c1');
    const r3 = idem('', 'k1', 'c2'); // same key, other principal: another record
    await store.commit(batch({ idempotency: [r1, r2, r3] }));
    expect(await store.getIdempotency('alice', 'k1')).toEqual(r1);
    expect(await store.getIdempotency('', 'k1')).toEqual(r3);
    expect(await store.getIdempotency('bob', 'k1')).toBeNull();

    await store.commit(batch({ idempotencyEnded: [{ principal: 'alice', key: 'k1', endedAtMs: 100 }, { principal: 'alice', key: 'k2', endedAtMs: 200 }, { principal: 'x', key: 'none', endedAtMs: 1 }] }));
    expect(await store.getIdempotency('alice', 'k1')).toEqual({ ...r1, endedAtMs: 100 });
    expect(await store.expireIdempotency(150)).toBe(1);
    expect(await store.getIdempotency('alice', 'k1')).toBeNull();
    expect(await store.expireIdempotency(200)).toBe(0); // strictly before
    expect(await store.expireIdempotency(10_000)).toBe(1);
    expect(await store.getIdempotency('', 'k1')).toEqual(r3); // never ended: kept
  });

  it('expireIdempotency removes more than one chunk', async () => {
    const rows = Array.from({ length: 2_500 }, (_, i) => idem('p', `k${i}`, 'c1', { endedAtMs: i }));
    await store.commit(batch({ idempotency: rows }));
    expect(await store.expireIdempotency(2_400)).toBe(2_400);
    expect(await store.expireIdempotency(1e12)).toBe(100);
  });

  it('projection: empty when none; entity upserts and cursor; ordered by firstSeq', async () => {
    expect(await store.loadProjection('c1')).toEqual({ cursor: 0, entities: [] });
    const e5 = entity('m5', 5);
    const e2 = entity('m2', 2, { kind: 'tool_call', props: { name: 'calc', input: { expression: '1+1' }, status: 'running', done: false } });
    await store.commit(batch({ projections: [{ convId: 'c1', cursor: 5, upserts: [e5, e2] }] }));
    expect(await store.loadProjection('c1')).toEqual({ cursor: 5, entities: [e2, e5] });

    const e2b = { ...e2, version: 9, updatedAtMs: 6_500, props: { name: 'calc', status: 'completed', done: true } };
    await store.commit(batch({ projections: [{ convId: 'c1', cursor: 9, upserts: [e2b, entity('m9', 9)] }] }));
    expect(await store.loadProjection('c1')).toEqual({ cursor: 9, entities: [e2b, e5, entity('m9', 9)] });
    expect(await store.loadProjection('c2')).toEqual({ cursor: 0, entities: [] });
  });

  it('tombstones, ping and close', async () => {
    expect(await store.isTombstoned('c1')).toBe(false);
    await store.deleteConversation('c1', 123);
    expect(await store.isTombstoned('c1')).toBe(true);
    expect(await store.ping()).toBe(true);
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.getConversation('c1')).rejects.toThrow(/closed/);
  });
});

describe('SqliteStore commit atomicity', () => {
  let path: string;
  let store: SqliteStore;
  beforeEach(async () => {
    path = newPath();
    store = new SqliteStore({ thread, path });
    await store.migrate();
    await store.commit(batch({ conversations: [upsert(conversation('a'))], frames: [frame('a', 1), frame('a', 2), frame('a', 3)] }));
  });
  afterEach(async () => {
    await store.close();
  });

  async function expectNoTraceOfB(): Promise<void> {
    expect(await store.getConversation('b')).toBeNull();
    expect(await store.readFrames('b', 0, 100)).toEqual([]);
    expect(await store.getRun('b', 'ib')).toBeNull();
    expect(await store.listOpenPauses('b')).toEqual([]);
    expect(await store.listQueue('b')).toEqual([]);
    expect(await store.listConversationsWithQueue()).toEqual([]);
    expect(await store.getIdempotency('alice', 'kb')).toBeNull();
    expect(await store.loadProjection('b')).toEqual({ cursor: 0, entities: [] });
    expect(await store.getConversation('a')).toEqual(conversation('a'));
    expect((await store.readFrames('a', 0, 100)).map((f) => f.seq)).toEqual([1, 2, 3]);
    for (const table of ['conversations', 'log_streams', 'runs', 'pauses', 'queue', 'idempotency', 'entities', 'projection_cursors']) {
      expect(countRows(path, table, 'b'), table).toBe(0);
    }
  }

  function batchOfB(extra: { frames?: ReturnType<typeof frame>[]; idempotency?: ReturnType<typeof idem>[] }) {
    return batch({
      conversations: [upsert(conversation('b')), upsert(conversation('a'), { title: 'changed', lastSeq: 99 })],
      frames: [frame('b', 1), frame('b', 2), ...(extra.frames ?? [])],
      runs: [run('b', 'ib')],
      pauses: [pause('b', 'pb')],
      queueInserts: [queued('b', 'tb', 1)],
      queueDeletes: [],
      idempotency: [idem('alice', 'kb', 'b'), ...(extra.idempotency ?? [])],
      idempotencyEnded: [],
      projections: [{ convId: 'b', cursor: 2, upserts: [entity('mb', 1)] }],
    });
  }

  it('a duplicate (conv_id, seq) against the store rolls back the whole batch', async () => {
    const err = await store.commit(batchOfB({ frames: [frame('a', 3)] })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreCommitError);
    expect((err as StoreCommitError).code).toBe('seq_conflict');
    expect((err as StoreCommitError).part).toBe('frames');
    expect((err as Error).message).toContain('conv a seq 3');
    await expectNoTraceOfB();
  });

  it('a duplicate seq inside one batch rolls it back too', async () => {
    await expect(store.commit(batchOfB({ frames: [frame('b', 2)] }))).rejects.toThrow(StoreCommitError);
    await expectNoTraceOfB();
  });

  it('an existing idempotency (principal, key) fails the transaction', async () => {
    await store.commit(batch({ idempotency: [idem('alice', 'taken', 'a')] }));
    const err = await store.commit(batchOfB({ idempotency: [idem('alice', 'taken', 'b')] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCommitError);
    expect((err as StoreCommitError).part).toBe('idempotency');
    await expectNoTraceOfB();
    expect(await store.getIdempotency('alice', 'taken')).toEqual(idem('alice', 'taken', 'a'));
  });

  it('the store keeps working after a failed commit', async () => {
    await expect(store.commit(batchOfB({ frames: [frame('a', 1)] }))).rejects.toThrow();
    await store.commit(batchOfB({}));
    expect((await store.readFrames('b', 0, 10)).map((f) => f.seq)).toEqual([1, 2]);
    expect(await store.getConversation('a')).toMatchObject({ title: 'changed', lastSeq: 99 });
    expect(await store.listConversationsWithQueue()).toEqual(['b']);
  });
});

describe('SqliteStore listConversations keyset paging', () => {
  it('pages 25 rows with ties on last_activity_ms: no row twice, none missing, newest first', async () => {
    const store = new SqliteStore({ thread, path: ':memory:' });
    await store.migrate();
    const rows: ConversationRow[] = Array.from({ length: 25 }, (_, i) =>
      conversation(`conv-${String((i * 7) % 25).padStart(2, '0')}`, { lastActivityMs: 1_000 + Math.floor(i / 4), principal: i % 2 ? 'alice' : 'bob' }),
    );
    await store.commit(batch({ conversations: rows.map((r) => upsert(r)) }));
    const expected = [...rows].sort((x, y) => y.lastActivityMs - x.lastActivityMs || (x.convId < y.convId ? 1 : -1));

    for (const [principal, pageSize] of [[null, 7], [null, 1], [null, 25], ['alice', 4], ['bob', 5]] as const) {
      const seen: ConversationRow[] = [];
      let before: { lastActivityMs: number; convId: string } | null = null;
      for (let guard = 0; guard < 100; guard++) {
        const page: ConversationRow[] = await store.listConversations({ limit: pageSize, before, principal });
        expect(page.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page);
        if (page.length < pageSize) break;
        const last = page[page.length - 1]!;
        before = { lastActivityMs: last.lastActivityMs, convId: last.convId };
      }
      const want = expected.filter((r) => principal === null || r.principal === principal);
      expect(seen.map((r) => r.convId)).toEqual(want.map((r) => r.convId));
      expect(new Set(seen.map((r) => r.convId)).size).toBe(seen.length);
    }
    expect(await store.listConversations({ limit: 0 })).toEqual([]);
    await store.close();
  });
});

describe('SqliteStore file database', () => {
  it('runs in WAL mode and keeps committed data across close + reopen', async () => {
    const path = tmp.file('nested/dir/webchat.db'); // parent directories are created
    const s1 = new SqliteStore({ thread, path });
    await s1.migrate();
    await s1.commit(batch({ conversations: [upsert(conversation('w'))], frames: [frame('w', 1), frame('w', 2)], runs: [run('w', 'iw')] }));
    const probe = new BetterSqlite3(path, { readonly: true });
    expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
    probe.close();
    await s1.close();

    const s2 = new SqliteStore({ thread, path });
    await s2.migrate();
    expect(await s2.getConversation('w')).toEqual(conversation('w'));
    expect(await s2.logHead('w')).toEqual({ lastSeq: 2, epoch: 'ep1' });
    expect(await s2.listOpenRuns()).toEqual([run('w', 'iw')]);
    await s2.close();
  });

  it('throws a clear error when used before migrate()', async () => {
    const store = new SqliteStore({ thread, path: ':memory:' });
    await expect(store.readFrames('x', 0, 1)).rejects.toThrow(/migrate\(\)/);
    await store.close();
  });
});
});
