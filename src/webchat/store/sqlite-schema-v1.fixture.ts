import BetterSqlite3 from 'better-sqlite3';
import type { Block } from '../../inference/turn';
import { hashBlock } from './block-hash';
import { V1_DDL } from './sqlite-migrations';

/**
 * A schema-v1 database written the way the v1 code wrote it: the v1 DDL (migration 1, frozen
 * like every migration) and the v1 store's INSERT statements, copied here verbatim (2026-12-06, before the chunked log), so the
 * migration test does not depend on code that no longer exists. Do not edit: it is history.
 */


const V1_INSERT = {
  conversation: `INSERT INTO conversations (conv_id, title, created_at_ms, last_activity_ms, runtime_key, busy_policy, step_mode, principal, epoch, last_seq)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  frame: `INSERT INTO frames (conv_id, seq, epoch, type, entity_id, json, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  run: `INSERT INTO runs (inference_id, conv_id, turn_id, status, reason, started_at_ms, ended_at_ms, end_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  pause: `INSERT INTO pauses (pause_id, conv_id, inference_id, phase, summary, deadline_ms, tool_call_ids, resolution) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  queue: `INSERT INTO queue (conv_id, turn_id, order_key, prompt, idempotency_key, principal, runtime, accepted_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  idempotency: `INSERT INTO idempotency (principal, key, conv_id, turn_id, prompt_hash, created_at_ms, ended_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  entity: `INSERT INTO entities (conv_id, id, kind, first_seq, version, created_at_ms, updated_at_ms, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  cursor: `INSERT INTO projection_cursors (conv_id, cursor) VALUES (?, ?)`,
  block: `INSERT OR IGNORE INTO blocks (hash, json) VALUES (?, ?)`,
  conversationBlock: `INSERT OR IGNORE INTO conversation_blocks (conv_id, hash) VALUES (?, ?)`,
  turn: `INSERT INTO turns (conv_id, turn_id, latest_phase) VALUES (?, ?, ?)
    ON CONFLICT (conv_id, turn_id) DO UPDATE SET latest_phase = excluded.latest_phase`,
  snapshot: `INSERT INTO turn_snapshots (conv_id, turn_id, phase, inference_id, status, created_at_ms, updated_at_ms, metadata, block_count, block_hashes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  tombstone: `INSERT INTO tombstones (conv_id, deleted_at_ms) VALUES (?, ?)`,
} as const;

/** The envelope a v1 server stored for frame `seq` of `convId` (the exact JSON it delivered). */
export function v1Envelope(convId: string, seq: number): { type: string; id: string; json: string } {
  const type = seq % 10 === 1 ? 'run.start' : 'llm.delta';
  const id = type === 'run.start' ? `run-${convId}` : `msg-${convId}-${Math.ceil(seq / 10)}`;
  const data = type === 'run.start' ? { inferenceId: `inf-${convId}`, turnId: `turn-${convId}` } : { delta: `wörd ${seq} `, offset: seq * 7 };
  return { type, id, json: JSON.stringify({ sem: true, event: { type, id, seq, stream_id: null, data, metadata: {} } }) };
}

export const V1_BLOCKS: Block[] = [
  { kind: 'system', id: 'sys', text: 'be brief' } as Block,
  { kind: 'user', id: 'u1', text: 'What is 2+3?' } as Block,
  { kind: 'llm_text', id: 'a1', text: '5' } as Block,
];

/**
 * Writes a v1 database at `path`: conversations `old-a` (`frames` frames) and `old-b` (3 frames,
 * another epoch row-less), a run open and one closed, an open pause, a queued prompt, an
 * idempotency record, projection entities + cursor, a turn with two snapshots, a tombstone.
 */
export function writeV1Database(path: string, frames: number): void {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.exec('BEGIN IMMEDIATE');
  db.pragma('application_id = 1297564488'); // 'MWCH'
  db.exec(V1_DDL);
  db.pragma('user_version = 1');
  const p = Object.fromEntries(Object.entries(V1_INSERT).map(([k, sql]) => [k, db.prepare(sql)])) as Record<keyof typeof V1_INSERT, BetterSqlite3.Statement>;
  p.conversation.run('old-a', 'Old A', 1_000, 9_000, 'demo', 'queue', 1, 'alice', 'epoch-a', frames);
  for (let seq = 1; seq <= frames; seq++) {
    const e = v1Envelope('old-a', seq);
    p.frame.run('old-a', seq, 'epoch-a', e.type, e.id, e.json, 2_000 + seq);
  }
  for (let seq = 1; seq <= 3; seq++) {
    const e = v1Envelope('old-b', seq);
    p.frame.run('old-b', seq, 'epoch-b', e.type, e.id, e.json, 3_000 + seq); // frames without a conversation row
  }
  p.run.run('inf-old-a', 'old-a', 'turn-old-a', 'open', null, 5_000, null, null);
  p.run.run('inf-done', 'old-a', 'turn-done', 'completed', 'done', 4_000, 4_500, 10);
  p.pause.run('pause-1', 'old-a', 'inf-old-a', 'approval', 'approve calc', 99_000, JSON.stringify(['call_1']), null);
  p.queue.run('old-a', 'turn-q', 7, 'queued prompt', 'idem-q', 'alice', JSON.stringify({ slug: 'demo' }), 6_000);
  p.idempotency.run('alice', 'idem-q', 'old-a', 'turn-q', 'hash-q', 6_000, null);
  p.entity.run('old-a', 'msg-old-a-1', 'message', 2, 10, 2_002, 2_010, JSON.stringify({ role: 'assistant', content: 'wörd 2 ', streaming: false }));
  p.cursor.run('old-a', 10);
  const hashed = V1_BLOCKS.map(hashBlock);
  for (const h of hashed) {
    p.conversationBlock.run('old-a', h.hash);
    p.block.run(h.hash, h.json);
  }
  p.turn.run('old-a', 'turn-done', 'pre_inference');
  p.snapshot.run('old-a', 'turn-done', 'pre_inference', 'inf-done', null, 4_000, 4_000, JSON.stringify({ sessionId: 'old-a' }), 2, Buffer.concat(hashed.slice(0, 2).map((h) => h.hash)));
  p.turn.run('old-a', 'turn-done', 'final');
  p.snapshot.run('old-a', 'turn-done', 'final', 'inf-done', 'completed', 4_500, 4_500, JSON.stringify({ sessionId: 'old-a' }), 3, Buffer.concat(hashed.map((h) => h.hash)));
  p.tombstone.run('deleted-conv', 8_000);
  db.exec('COMMIT');
  db.close();
}
