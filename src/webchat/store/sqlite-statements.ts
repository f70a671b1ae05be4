import type { Database, Statement } from 'better-sqlite3';

/**
 * Every SQL statement of the SQLite store, prepared once per connection (after migrations).
 * Columns are aliased to the camelCase field names of store.ts wherever the value needs no
 * conversion, so rows come back ready to use.
 */

const CONVERSATION_COLUMNS = `conv_id AS convId, title, created_at_ms AS createdAtMs, last_activity_ms AS lastActivityMs,
  runtime_key AS runtimeKey, busy_policy AS busyPolicy, step_mode AS stepMode, principal, epoch, last_seq AS lastSeq`;
const RUN_COLUMNS = `conv_id AS convId, inference_id AS inferenceId, turn_id AS turnId, status, reason,
  started_at_ms AS startedAtMs, ended_at_ms AS endedAtMs, end_seq AS endSeq`;
const PAUSE_COLUMNS = `conv_id AS convId, pause_id AS pauseId, inference_id AS inferenceId, phase, summary,
  deadline_ms AS deadlineMs, tool_call_ids AS toolCallIds, resolution`;
const QUEUE_COLUMNS = `conv_id AS convId, turn_id AS turnId, order_key AS orderKey, prompt, idempotency_key AS idempotencyKey,
  principal, runtime, accepted_at_ms AS acceptedAtMs`;
const IDEMPOTENCY_COLUMNS = `principal, key, conv_id AS convId, turn_id AS turnId, prompt_hash AS promptHash,
  created_at_ms AS createdAtMs, ended_at_ms AS endedAtMs`;
const ACTIVITY_ORDER = `ORDER BY last_activity_ms DESC, conv_id DESC LIMIT @limit`;
const BEFORE = `(last_activity_ms, conv_id) < (@beforeMs, @beforeId)`;

/** Tables that hold rows of one conversation, keyed by `conv_id` (the delete order; the log's tables: sqlite-log.ts). */
export const CONVERSATION_TABLES = [
  'runs',
  'pauses',
  'queue',
  'idempotency',
  'entities',
  'projection_cursors',
  'turn_snapshots',
  'turns',
  'conversation_blocks',
  'conversations',
] as const;

export function prepareStatements(db: Database) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    // ---- commit ---------------------------------------------------------------------------
    upsertConversation: p(`INSERT INTO conversations (conv_id, title, created_at_ms, last_activity_ms, runtime_key,
        busy_policy, step_mode, principal, epoch, last_seq)
      VALUES (@convId, @title, @createdAtMs, @lastActivityMs, @runtimeKey, @busyPolicy, @stepMode, @principal, @epoch, @lastSeq)
      ON CONFLICT (conv_id) DO UPDATE SET
        title = coalesce(@uTitle, title),
        last_activity_ms = coalesce(@uLastActivityMs, last_activity_ms),
        runtime_key = coalesce(@uRuntimeKey, runtime_key),
        busy_policy = coalesce(@uBusyPolicy, busy_policy),
        step_mode = coalesce(@uStepMode, step_mode),
        epoch = coalesce(@uEpoch, epoch),
        last_seq = coalesce(@uLastSeq, last_seq)
      WHERE @hasUpdate`),
    upsertRun: p(`INSERT INTO runs (inference_id, conv_id, turn_id, status, reason, started_at_ms, ended_at_ms, end_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (inference_id) DO UPDATE SET turn_id = excluded.turn_id, status = excluded.status,
        reason = excluded.reason, started_at_ms = excluded.started_at_ms, ended_at_ms = excluded.ended_at_ms,
        end_seq = excluded.end_seq`),
    upsertPause: p(`INSERT INTO pauses (pause_id, conv_id, inference_id, phase, summary, deadline_ms, tool_call_ids, resolution)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (pause_id) DO UPDATE SET inference_id = excluded.inference_id, phase = excluded.phase,
        summary = excluded.summary, deadline_ms = excluded.deadline_ms, tool_call_ids = excluded.tool_call_ids,
        resolution = excluded.resolution`),
    insertQueue: p(`INSERT INTO queue (conv_id, turn_id, order_key, prompt, idempotency_key, principal, runtime, accepted_at_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteQueue: p(`DELETE FROM queue WHERE conv_id = ? AND turn_id = ?`),
    insertIdempotency: p(`INSERT INTO idempotency (principal, key, conv_id, turn_id, prompt_hash, created_at_ms, ended_at_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    endIdempotency: p(`UPDATE idempotency SET ended_at_ms = ? WHERE principal = ? AND key = ?`),
    upsertEntity: p(`INSERT INTO entities (conv_id, id, kind, first_seq, version, created_at_ms, updated_at_ms, props)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (conv_id, id) DO UPDATE SET kind = excluded.kind, first_seq = excluded.first_seq,
        version = excluded.version, created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms,
        props = excluded.props`),
    upsertCursor: p(`INSERT INTO projection_cursors (conv_id, cursor) VALUES (?, ?)
      ON CONFLICT (conv_id) DO UPDATE SET cursor = excluded.cursor`),

    // ---- reads ----------------------------------------------------------------------------
    getConversation: p(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE conv_id = ?`),
    listConversations: p(`SELECT ${CONVERSATION_COLUMNS} FROM conversations ${ACTIVITY_ORDER}`),
    listConversationsBefore: p(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE ${BEFORE} ${ACTIVITY_ORDER}`),
    listConversationsOf: p(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE principal = @principal ${ACTIVITY_ORDER}`),
    listConversationsOfBefore: p(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE principal = @principal AND ${BEFORE} ${ACTIVITY_ORDER}`,
    ),
    isTombstoned: p(`SELECT 1 FROM tombstones WHERE conv_id = ?`).pluck(),
    conversationEpoch: p(`SELECT epoch FROM conversations WHERE conv_id = ?`).pluck(),
    listOpenRuns: p(`SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'open' ORDER BY started_at_ms, rowid`),
    getRun: p(`SELECT ${RUN_COLUMNS} FROM runs WHERE inference_id = ? AND conv_id = ?`),
    listRecentRuns: p(`SELECT ${RUN_COLUMNS} FROM runs WHERE conv_id = ? ORDER BY started_at_ms DESC, rowid DESC LIMIT ?`),
    listOpenPauses: p(`SELECT ${PAUSE_COLUMNS} FROM pauses WHERE conv_id = ? AND resolution IS NULL ORDER BY rowid`),
    listQueue: p(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE conv_id = ? ORDER BY order_key, rowid`),
    listConversationsWithQueue: p(
      `SELECT conv_id FROM queue GROUP BY conv_id ORDER BY min(accepted_at_ms), conv_id`,
    ).pluck(),
    getIdempotency: p(`SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency WHERE principal = ? AND key = ?`),
    getCursor: p(`SELECT cursor FROM projection_cursors WHERE conv_id = ?`).pluck(),
    listEntities: p(`SELECT id, kind, first_seq AS firstSeq, version, created_at_ms AS createdAtMs,
        updated_at_ms AS updatedAtMs, props FROM entities WHERE conv_id = ? ORDER BY first_seq, id`),

    // ---- turns ----------------------------------------------------------------------------
    insertBlock: p(`INSERT OR IGNORE INTO blocks (hash, json) VALUES (?, ?)`),
    insertConversationBlock: p(`INSERT OR IGNORE INTO conversation_blocks (conv_id, hash) VALUES (?, ?)`),
    upsertTurn: p(`INSERT INTO turns (conv_id, turn_id, latest_phase) VALUES (?, ?, ?)
      ON CONFLICT (conv_id, turn_id) DO UPDATE SET latest_phase = excluded.latest_phase`),
    upsertSnapshot: p(`INSERT INTO turn_snapshots (conv_id, turn_id, phase, inference_id, status, created_at_ms,
        updated_at_ms, metadata, block_count, block_hashes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (conv_id, turn_id, phase) DO UPDATE SET inference_id = excluded.inference_id,
        status = excluded.status, created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms,
        metadata = excluded.metadata, block_count = excluded.block_count, block_hashes = excluded.block_hashes`),
    latestSnapshots: p(`SELECT s.conv_id AS convId, s.turn_id AS turnId, s.phase, s.inference_id AS inferenceId, s.status,
        s.created_at_ms AS createdAtMs, s.metadata, s.block_count AS blockCount, s.block_hashes AS blockHashes
      FROM turns t JOIN turn_snapshots s
        ON s.conv_id = t.conv_id AND s.turn_id = t.turn_id AND s.phase = t.latest_phase
      WHERE t.conv_id = ? ORDER BY t.ord`),
    getBlock: p(`SELECT json FROM blocks WHERE hash = ?`).pluck(),

    // ---- delete / expiry ------------------------------------------------------------------
    deleteFrom: Object.fromEntries(
      CONVERSATION_TABLES.map((t) => [t, p(`DELETE FROM ${t} WHERE conv_id = ?`)]),
    ) as Record<(typeof CONVERSATION_TABLES)[number], Statement>,
    /** Blocks of the conversation that no other conversation references (run before its conversation_blocks go). */
    deleteOrphanBlocks: p(`DELETE FROM blocks WHERE hash IN (SELECT hash FROM conversation_blocks WHERE conv_id = @convId)
      AND NOT EXISTS (SELECT 1 FROM conversation_blocks o WHERE o.hash = blocks.hash AND o.conv_id <> @convId)`),
    insertTombstone: p(`INSERT INTO tombstones (conv_id, deleted_at_ms) VALUES (?, ?) ON CONFLICT (conv_id) DO NOTHING`),
    expireIdempotency: p(`DELETE FROM idempotency WHERE rowid IN
      (SELECT rowid FROM idempotency WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ? LIMIT ?)`),
    ping: p(`SELECT 1`).pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
