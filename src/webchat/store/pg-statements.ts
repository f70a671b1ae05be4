/**
 * Every SQL statement of the PostgreSQL store. Tables are unqualified: the pool's
 * `search_path` names the store's schema (pg-store.ts). Columns are aliased to the camelCase
 * field names of store.ts wherever the value needs no conversion (bigint is parsed to a JS
 * number by the pool's type parser).
 *
 * Writes take whole columns as arrays (`unnest($1::text[], $2::bigint[], …)`), so one
 * statement writes every row of a table in a group commit, whatever the number of rows.
 */

const CONVERSATION_COLUMNS = `conv_id AS "convId", title, created_at_ms AS "createdAtMs", last_activity_ms AS "lastActivityMs",
  runtime_key AS "runtimeKey", busy_policy AS "busyPolicy", step_mode AS "stepMode", principal, epoch, last_seq AS "lastSeq"`;
const RUN_COLUMNS = `conv_id AS "convId", inference_id AS "inferenceId", turn_id AS "turnId", status, reason,
  started_at_ms AS "startedAtMs", ended_at_ms AS "endedAtMs", end_seq AS "endSeq"`;
const PAUSE_COLUMNS = `conv_id AS "convId", pause_id AS "pauseId", inference_id AS "inferenceId", phase, summary,
  deadline_ms AS "deadlineMs", tool_call_ids AS "toolCallIds", resolution`;
const QUEUE_COLUMNS = `conv_id AS "convId", turn_id AS "turnId", order_key AS "orderKey", prompt, idempotency_key AS "idempotencyKey",
  principal, runtime, accepted_at_ms AS "acceptedAtMs"`;
const IDEMPOTENCY_COLUMNS = `principal, key, conv_id AS "convId", turn_id AS "turnId", prompt_hash AS "promptHash",
  created_at_ms AS "createdAtMs", ended_at_ms AS "endedAtMs"`;
export const FRAME_COLUMNS = `conv_id AS "convId", seq, epoch, type, entity_id AS "entityId", json, created_at_ms AS "createdAtMs"`;

/** Tables that hold rows of one conversation, keyed by `conv_id` (the delete order). */
export const PG_CONVERSATION_TABLES = [
  'frames',
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

export const SQL = {
  // ---- commit ------------------------------------------------------------------------------
  /**
   * Create-or-update in one statement: rows that do not exist are inserted from the create
   * columns; rows that existed get the `u_*` fields (NULL = leave the field; `has_update`
   * false = leave the row). A conversation appears at most once per statement.
   */
  upsertConversations: `WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
        $7::boolean[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::text[],
        $15::boolean[], $16::text[], $17::bigint[], $18::boolean[])
      AS t(conv_id, title, created_at_ms, last_activity_ms, runtime_key, busy_policy, step_mode, principal, epoch, last_seq,
        u_title, u_last_activity_ms, u_runtime_key, u_busy_policy, u_step_mode, u_epoch, u_last_seq, has_update)),
    ins AS (INSERT INTO conversations (conv_id, title, created_at_ms, last_activity_ms, runtime_key, busy_policy, step_mode,
        principal, epoch, last_seq)
      SELECT conv_id, title, created_at_ms, last_activity_ms, runtime_key, busy_policy, step_mode, principal, epoch, last_seq
      FROM t ON CONFLICT (conv_id) DO NOTHING RETURNING conv_id)
    UPDATE conversations c SET
      title = coalesce(t.u_title, c.title),
      last_activity_ms = coalesce(t.u_last_activity_ms, c.last_activity_ms),
      runtime_key = coalesce(t.u_runtime_key, c.runtime_key),
      busy_policy = coalesce(t.u_busy_policy, c.busy_policy),
      step_mode = coalesce(t.u_step_mode, c.step_mode),
      epoch = coalesce(t.u_epoch, c.epoch),
      last_seq = coalesce(t.u_last_seq, c.last_seq)
    FROM t WHERE c.conv_id = t.conv_id AND t.has_update AND t.conv_id NOT IN (SELECT conv_id FROM ins)`,
  /** The committed head of each listed conversation (an index probe each: max of the primary key). */
  heads: `SELECT c AS "convId", (SELECT max(seq) FROM frames f WHERE f.conv_id = c) AS head FROM unnest($1::text[]) AS c`,
  insertFrames: `INSERT INTO frames (conv_id, seq, epoch, type, entity_id, json, created_at_ms)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
  /** How many of the given frames are stored exactly so (a retried commit whose first COMMIT got no answer). */
  countIdenticalFrames: `SELECT count(*)::int AS n FROM frames f
    JOIN unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
      AS t(conv_id, seq, epoch, type, entity_id, json, created_at_ms)
      ON f.conv_id = t.conv_id AND f.seq = t.seq
    WHERE f.epoch = t.epoch AND f.type = t.type AND f.entity_id = t.entity_id AND f.json = t.json
      AND f.created_at_ms = t.created_at_ms`,
  /** Raises each conversation's fence to the token if not above it; returns the rows it accepted. */
  checkFences: `UPDATE conversations c SET fence = t.token
    FROM unnest($1::text[], $2::bigint[]) AS t(conv_id, token)
    WHERE c.conv_id = t.conv_id AND c.fence <= t.token RETURNING c.conv_id AS "convId"`,
  upsertRuns: `INSERT INTO runs (inference_id, conv_id, turn_id, status, reason, started_at_ms, ended_at_ms, end_seq)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])
    ON CONFLICT (inference_id) DO UPDATE SET turn_id = excluded.turn_id, status = excluded.status,
      reason = excluded.reason, started_at_ms = excluded.started_at_ms, ended_at_ms = excluded.ended_at_ms,
      end_seq = excluded.end_seq`,
  upsertPauses: `INSERT INTO pauses (pause_id, conv_id, inference_id, phase, summary, deadline_ms, tool_call_ids, resolution)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[])
    ON CONFLICT (pause_id) DO UPDATE SET inference_id = excluded.inference_id, phase = excluded.phase,
      summary = excluded.summary, deadline_ms = excluded.deadline_ms, tool_call_ids = excluded.tool_call_ids,
      resolution = excluded.resolution`,
  insertQueue: `INSERT INTO queue (conv_id, turn_id, order_key, prompt, idempotency_key, principal, runtime, accepted_at_ms)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])`,
  deleteQueue: `DELETE FROM queue q USING unnest($1::text[], $2::text[]) AS t(conv_id, turn_id)
    WHERE q.conv_id = t.conv_id AND q.turn_id = t.turn_id`,
  insertIdempotency: `INSERT INTO idempotency (principal, key, conv_id, turn_id, prompt_hash, created_at_ms, ended_at_ms)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])`,
  endIdempotency: `UPDATE idempotency i SET ended_at_ms = t.ended_at_ms
    FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(principal, key, ended_at_ms)
    WHERE i.principal = t.principal AND i.key = t.key`,
  upsertEntities: `INSERT INTO entities (conv_id, id, kind, first_seq, version, created_at_ms, updated_at_ms, props)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
    ON CONFLICT (conv_id, id) DO UPDATE SET kind = excluded.kind, first_seq = excluded.first_seq,
      version = excluded.version, created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms,
      props = excluded.props`,
  upsertCursors: `INSERT INTO projection_cursors (conv_id, cursor) SELECT * FROM unnest($1::text[], $2::bigint[])
    ON CONFLICT (conv_id) DO UPDATE SET cursor = excluded.cursor`,

  // ---- turns -------------------------------------------------------------------------------
  /** Records which blocks each conversation references; returns the pairs that were new. */
  insertConversationBlocks: `INSERT INTO conversation_blocks (conv_id, hash)
    SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT DO NOTHING RETURNING hash`,
  insertBlocks: `INSERT INTO blocks (hash, json) SELECT * FROM unnest($1::bytea[], $2::text[]) ON CONFLICT DO NOTHING`,
  /** New turns get the next `ord` in array order; a known turn keeps its ord. */
  upsertTurns: `INSERT INTO turns (conv_id, turn_id, latest_phase)
    SELECT conv_id, turn_id, phase FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(conv_id, turn_id, phase, n)
    ORDER BY n
    ON CONFLICT (conv_id, turn_id) DO UPDATE SET latest_phase = excluded.latest_phase`,
  upsertSnapshots: `INSERT INTO turn_snapshots (conv_id, turn_id, phase, inference_id, status, created_at_ms,
      updated_at_ms, metadata, block_count, block_hashes)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[],
      $9::integer[], $10::bytea[])
    ON CONFLICT (conv_id, turn_id, phase) DO UPDATE SET inference_id = excluded.inference_id,
      status = excluded.status, created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms,
      metadata = excluded.metadata, block_count = excluded.block_count, block_hashes = excluded.block_hashes`,
  latestSnapshots: `SELECT s.conv_id AS "convId", s.turn_id AS "turnId", s.phase, s.inference_id AS "inferenceId", s.status,
      s.created_at_ms AS "createdAtMs", s.metadata, s.block_count AS "blockCount", s.block_hashes AS "blockHashes"
    FROM turns t JOIN turn_snapshots s ON s.conv_id = t.conv_id AND s.turn_id = t.turn_id AND s.phase = t.latest_phase
    WHERE t.conv_id = $1 ORDER BY t.ord`,
  blocksOf: `SELECT b.hash, b.json FROM blocks b WHERE b.hash IN (SELECT hash FROM conversation_blocks WHERE conv_id = $1)`,

  // ---- reads -------------------------------------------------------------------------------
  getConversation: `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE conv_id = $1`,
  /** $1 limit, $2 principal (NULL = any), $3/$4 the keyset cursor (NULL = first page). */
  listConversations: `SELECT ${CONVERSATION_COLUMNS} FROM conversations
    WHERE ($2::text IS NULL OR principal = $2) AND ($3::bigint IS NULL OR (last_activity_ms, conv_id) < ($3, $4::text))
    ORDER BY last_activity_ms DESC, conv_id DESC LIMIT $1`,
  isTombstoned: `SELECT 1 FROM tombstones WHERE conv_id = $1`,
  readFrames: `SELECT ${FRAME_COLUMNS} FROM frames WHERE conv_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
  /** Head seq, the conversation row's epoch, and the newest frame's epoch (for frames without a row). */
  logHead: `SELECT coalesce(f.seq, 0) AS "lastSeq", coalesce((SELECT epoch FROM conversations WHERE conv_id = $1), f.epoch) AS epoch
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (SELECT seq, epoch FROM frames WHERE conv_id = $1 ORDER BY seq DESC LIMIT 1) AS f ON true`,
  listOpenRuns: `SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'open' ORDER BY started_at_ms, ord`,
  getRun: `SELECT ${RUN_COLUMNS} FROM runs WHERE inference_id = $1 AND conv_id = $2`,
  listRecentRuns: `SELECT ${RUN_COLUMNS} FROM runs WHERE conv_id = $1 ORDER BY started_at_ms DESC, ord DESC LIMIT $2`,
  listOpenPauses: `SELECT ${PAUSE_COLUMNS} FROM pauses WHERE conv_id = $1 AND resolution IS NULL ORDER BY ord`,
  listQueue: `SELECT ${QUEUE_COLUMNS} FROM queue WHERE conv_id = $1 ORDER BY order_key, ord`,
  listConversationsWithQueue: `SELECT conv_id AS "convId" FROM queue GROUP BY conv_id ORDER BY min(accepted_at_ms), conv_id`,
  getIdempotency: `SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency WHERE principal = $1 AND key = $2`,
  /** Cursor and entities in ONE statement (one snapshot): they always agree. */
  loadProjection: `SELECT c.cursor, e.id, e.kind, e.first_seq AS "firstSeq", e.version, e.created_at_ms AS "createdAtMs",
      e.updated_at_ms AS "updatedAtMs", e.props
    FROM (SELECT coalesce((SELECT cursor FROM projection_cursors WHERE conv_id = $1), 0) AS cursor) c
    LEFT JOIN entities e ON e.conv_id = $1
    ORDER BY e.first_seq, e.id`,

  // ---- delete / expiry ---------------------------------------------------------------------
  deleteOrphanBlocks: `DELETE FROM blocks b WHERE b.hash IN (SELECT hash FROM conversation_blocks WHERE conv_id = $1)
    AND NOT EXISTS (SELECT 1 FROM conversation_blocks o WHERE o.hash = b.hash AND o.conv_id <> $1)`,
  insertTombstone: `INSERT INTO tombstones (conv_id, deleted_at_ms) VALUES ($1, $2) ON CONFLICT (conv_id) DO NOTHING`,
  expireIdempotency: `DELETE FROM idempotency WHERE (principal, key) IN
    (SELECT principal, key FROM idempotency WHERE ended_at_ms IS NOT NULL AND ended_at_ms < $1 LIMIT $2)`,
  ping: `SELECT 1 AS ok`,
} as const;
