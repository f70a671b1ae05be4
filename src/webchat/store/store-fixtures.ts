import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type {
  CommitBatch,
  ConversationRow,
  ConversationUpsert,
  EntityRow,
  IdempotencyRow,
  PauseRow,
  QueueRow,
  RunRow,
  StoredFrame,
} from './store';
import { emptyBatch } from './store';

/** Test data builders and helpers for the store tests (real SQLite files, no mocks). */

export function tempDir(): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'webchat-store-'));
  return { dir, file: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function conversation(convId: string, over: Partial<ConversationRow> = {}): ConversationRow {
  return {
    convId,
    title: `title of ${convId}`,
    createdAtMs: 1_000,
    lastActivityMs: 1_000,
    runtimeKey: 'demo',
    busyPolicy: 'queue',
    stepMode: false,
    principal: null,
    epoch: 'ep1',
    lastSeq: 0,
    ...over,
  };
}

export function upsert(row: ConversationRow, update: ConversationUpsert['update'] = {}): ConversationUpsert {
  return { convId: row.convId, create: row, update };
}

export function frame(convId: string, seq: number, over: Partial<StoredFrame> = {}): StoredFrame {
  const type = over.type ?? 'llm.delta';
  const entityId = over.entityId ?? `msg-${convId}`;
  return {
    convId,
    seq,
    epoch: 'ep1',
    type,
    entityId,
    json: JSON.stringify({ sem: true, event: { type, id: entityId, seq, data: { delta: `d${seq}` } } }),
    createdAtMs: 2_000 + seq,
    ...over,
  };
}

export function run(convId: string, inferenceId: string, over: Partial<RunRow> = {}): RunRow {
  return {
    convId,
    inferenceId,
    turnId: `turn-${inferenceId}`,
    status: 'open',
    reason: null,
    startedAtMs: 3_000,
    endedAtMs: null,
    endSeq: null,
    ...over,
  };
}

export function pause(convId: string, pauseId: string, over: Partial<PauseRow> = {}): PauseRow {
  return {
    convId,
    pauseId,
    inferenceId: 'inf-1',
    phase: 'approval',
    summary: 'approve calc',
    deadlineMs: 9_000,
    toolCallIds: ['call_1', 'call_2'],
    resolution: null,
    ...over,
  };
}

export function queued(convId: string, turnId: string, orderKey: number, over: Partial<QueueRow> = {}): QueueRow {
  return {
    convId,
    turnId,
    orderKey,
    prompt: `prompt ${turnId}`,
    idempotencyKey: null,
    principal: null,
    runtime: { slug: 'demo', temperature: 0.2, tools: ['calc'] },
    acceptedAtMs: 4_000 + orderKey,
    ...over,
  };
}

export function idem(principal: string, key: string, convId: string, over: Partial<IdempotencyRow> = {}): IdempotencyRow {
  return { principal, key, convId, turnId: `turn-${key}`, promptHash: `hash-${key}`, createdAtMs: 5_000, endedAtMs: null, ...over };
}

export function entity(id: string, firstSeq: number, over: Partial<EntityRow> = {}): EntityRow {
  return {
    id,
    kind: 'message',
    firstSeq,
    version: firstSeq,
    createdAtMs: 6_000,
    updatedAtMs: 6_000,
    props: { role: 'assistant', content: `content ${id}`, streaming: false },
    ...over,
  };
}

export function batch(parts: Partial<CommitBatch>): CommitBatch {
  return { ...emptyBatch(), ...parts };
}

/** `count(*)` of a table (optionally only rows of one conversation), through a second connection. */
export function countRows(path: string, table: string, convId?: string): number {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const sql = convId === undefined ? `SELECT count(*) FROM ${table}` : `SELECT count(*) FROM ${table} WHERE conv_id = ?`;
    const stmt = db.prepare(sql).pluck();
    return (convId === undefined ? stmt.get() : stmt.get(convId)) as number;
  } finally {
    db.close();
  }
}

/** The two ways `SqliteStore` runs its engine: store tests run under both. */
export const SQLITE_MODES = [
  ['worker thread', true],
  ['in-process', false],
] as const;
