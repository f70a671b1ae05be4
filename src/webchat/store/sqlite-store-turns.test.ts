import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import type { Block } from '../../inference/turn';
import { SqliteStore } from './sqlite-store';
import type { TurnSnapshot } from './store';
import { batch, conversation, countRows, entity, frame, idem, pause, queued, run, tempDir, upsert, SQLITE_MODES } from './store-fixtures';

// Every test runs against the engine on its worker thread and in-process.
describe.each(SQLITE_MODES)('%s', (_mode, thread) => {

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

let path: string;
let store: SqliteStore;
beforeEach(async () => {
  n += 1;
  path = tmp.file(`turns-${n}.db`);
  store = new SqliteStore({ thread, path });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
});

function snap(convId: string, turnId: string, phase: TurnSnapshot['phase'], blocks: Block[], over: Partial<TurnSnapshot> = {}): TurnSnapshot {
  return { convId, turnId, phase, inferenceId: `inf-${turnId}`, status: null, createdAtMs: 1_000, blocks, metadata: { sessionId: convId }, ...over };
}

/** Saves a growing conversation of `turns` turns (pre_inference + final each); returns the final blocks per turn. */
async function growConversation(convId: string, turns: number, system: Block): Promise<Block[][]> {
  const finals: Block[][] = [];
  let history: Block[] = [system];
  for (let t = 1; t <= turns; t++) {
    const turnId = `${convId}-turn-${t}`;
    const pre = [...history, { kind: 'user', id: `${convId}-u${t}`, text: `question ${t}` } as Block];
    await store.saveTurnSnapshot(snap(convId, turnId, 'pre_inference', pre, { createdAtMs: t }));
    const extra: Block[] =
      t % 5 === 0
        ? [
            { kind: 'tool_call', id: `${convId}-call${t}`, name: 'calc', args: { expression: `${t}+1` }, providerCallId: null },
            { kind: 'tool_use', id: `${convId}-call${t}`, result: { value: t + 1 }, error: null, status: 'completed' } as Block,
          ]
        : [];
    const final = [...pre, ...extra, { kind: 'llm_text', id: `${convId}-a${t}`, text: `answer ${t}` } as Block];
    await store.saveTurnSnapshot(snap(convId, turnId, 'final', final, { createdAtMs: t, status: 'completed', metadata: { sessionId: convId, status: 'completed', usage: { inputTokens: t } } }));
    finals.push(final);
    history = final;
  }
  return finals;
}

const SYSTEM: Block = { kind: 'system', id: 'sys-1', text: 'You are helpful.', meta: { middleware: 'systemprompt' } };

describe('SqliteStore turn snapshots', () => {
  it('stores each distinct block once over 50 turns of a growing conversation', async () => {
    const finals = await growConversation('g', 50, SYSTEM);
    const distinct = 1 + 50 * 2 + 10 * 2; // system + (user, answer) per turn + (call, result) every 5th turn
    expect(finals[49]!.length).toBe(distinct);
    expect(countRows(path, 'blocks')).toBe(distinct);
    expect(countRows(path, 'conversation_blocks', 'g')).toBe(distinct);
    expect(countRows(path, 'turn_snapshots', 'g')).toBe(100);

    const turns = await store.loadTurns('g');
    expect(turns.map((t) => t.turnId)).toEqual(finals.map((_, i) => `g-turn-${i + 1}`));
    turns.forEach((t, i) => {
      expect(t.phase).toBe('final');
      expect(t.status).toBe('completed');
      expect(t.createdAtMs).toBe(i + 1);
      expect(t.metadata).toEqual({ sessionId: 'g', status: 'completed', usage: { inputTokens: i + 1 } });
      expect(t.blocks).toEqual(finals[i]);
    });
  });

  it('block identity is the content: key order does not matter, any change does', async () => {
    const a = { kind: 'user', id: 'u1', text: 'hi' } as Block;
    const reordered = JSON.parse('{"text":"hi","id":"u1","kind":"user"}') as Block;
    const changed = { kind: 'user', id: 'u1', text: 'hi!' } as Block;
    await store.saveTurnSnapshot(snap('k', 't1', 'pre_inference', [a]));
    await store.saveTurnSnapshot(snap('k', 't2', 'pre_inference', [reordered, a]));
    expect(countRows(path, 'blocks')).toBe(1);
    await store.saveTurnSnapshot(snap('k', 't3', 'pre_inference', [changed]));
    expect(countRows(path, 'blocks')).toBe(2);
    const turns = await store.loadTurns('k');
    expect(turns.map((t) => t.blocks)).toEqual([[a], [a, a], [changed]]);
  });

  it('loadTurns returns the latest written snapshot of each turn, turns in creation order', async () => {
    const u = { kind: 'user', id: 'u', text: 'q' } as Block;
    const call = { kind: 'tool_call', id: 'c', name: 'calc', args: { expression: '1+1' }, providerCallId: 'p' } as Block;
    const use = { kind: 'tool_use', id: 'c', result: 2, error: null, status: 'completed' } as Block;
    const text = { kind: 'llm_text', id: 'a', text: '2' } as Block;
    await store.saveTurnSnapshot(snap('L', 'first', 'pre_inference', [u]));
    await store.saveTurnSnapshot(snap('L', 'second', 'pre_inference', [u, text, u]));
    await store.saveTurnSnapshot(snap('L', 'first', 'post_inference', [u, call]));
    expect((await store.loadTurns('L')).map((t) => [t.turnId, t.phase])).toEqual([['first', 'post_inference'], ['second', 'pre_inference']]);

    await store.saveTurnSnapshot(snap('L', 'first', 'post_tools', [u, call, use]));
    await store.saveTurnSnapshot(snap('L', 'first', 'final', [u, call, use, text], { status: 'completed' }));
    let first = (await store.loadTurns('L'))[0]!;
    expect(first).toEqual(snap('L', 'first', 'final', [u, call, use, text], { status: 'completed' }));

    // Rewriting an earlier phase makes it the latest written one (update order, not phase order).
    await store.saveTurnSnapshot(snap('L', 'first', 'post_tools', [u, call, { ...use, status: 'cancelled' } as Block], { status: 'cancelled' }));
    first = (await store.loadTurns('L'))[0]!;
    expect([first.phase, first.status]).toEqual(['post_tools', 'cancelled']);
    expect(countRows(path, 'turn_snapshots', 'L')).toBe(5);
    expect(await store.loadTurns('none')).toEqual([]);
  });

  it('an empty turn round-trips', async () => {
    await store.saveTurnSnapshot(snap('e', 't', 'pre_inference', [], { inferenceId: null, metadata: {} }));
    expect(await store.loadTurns('e')).toEqual([snap('e', 't', 'pre_inference', [], { inferenceId: null, metadata: {} })]);
  });
});

describe('SqliteStore deleteConversation', () => {
  async function populate(convId: string): Promise<void> {
    await store.commit(
      batch({
        conversations: [upsert(conversation(convId))],
        frames: [frame(convId, 1), frame(convId, 2)],
        runs: [run(convId, `i-${convId}`)],
        pauses: [pause(convId, `p-${convId}`)],
        queueInserts: [queued(convId, `q-${convId}`, 3)],
        idempotency: [idem('alice', `k-${convId}`, convId)],
        projections: [{ convId, cursor: 2, upserts: [entity(`m-${convId}`, 1)] }],
      }),
    );
    const own: Block = { kind: 'user', id: `u-${convId}`, text: `only in ${convId}` };
    await store.saveTurnSnapshot(snap(convId, `t-${convId}`, 'final', [SYSTEM, own]));
  }

  /** Every table of the schema that has a conv_id column. */
  function tablesWithConvId(): string[] {
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
      return tables.filter((t) => (db.pragma(`table_info(${t})`) as { name: string }[]).some((c) => c.name === 'conv_id'));
    } finally {
      db.close();
    }
  }

  it('leaves nothing of the conversation and a tombstone; other conversations and shared blocks stay', async () => {
    await populate('x');
    await populate('y');
    const tables = tablesWithConvId();
    expect(tables.length).toBeGreaterThanOrEqual(12);
    for (const t of tables.filter((t) => t !== 'tombstones')) expect(countRows(path, t, 'x'), t).toBeGreaterThan(0);
    expect(countRows(path, 'blocks')).toBe(3); // SYSTEM shared by x and y, plus one own block each

    await store.deleteConversation('x', 42);

    for (const t of tables.filter((t) => t !== 'tombstones')) expect(countRows(path, t, 'x'), t).toBe(0);
    expect(countRows(path, 'tombstones', 'x')).toBe(1);
    expect(await store.isTombstoned('x')).toBe(true);
    expect(await store.isTombstoned('y')).toBe(false);
    expect(countRows(path, 'blocks')).toBe(2); // x's own block removed, the shared one kept
    expect(await store.logHead('x')).toEqual({ lastSeq: 0, epoch: null });
    expect(await store.getIdempotency('alice', 'k-x')).toBeNull();

    for (const t of tables.filter((t) => t !== 'tombstones')) expect(countRows(path, t, 'y'), t).toBeGreaterThan(0);
    expect((await store.loadTurns('y'))[0]!.blocks).toEqual([SYSTEM, { kind: 'user', id: 'u-y', text: 'only in y' }]);

    await store.deleteConversation('y', 43);
    expect(countRows(path, 'blocks')).toBe(0);
    await store.deleteConversation('y', 44); // idempotent; the first deletion time stays
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.prepare(`SELECT deleted_at_ms FROM tombstones WHERE conv_id = 'y'`).pluck().get()).toBe(43);
    db.close();
  });
});
});
