import pg from 'pg';
import type { Block } from '../../inference/turn';
import { hashBlock } from './block-hash';
import { applyBatch, BatchAlreadyCommitted, writeSnapshots } from './pg-commit';
import { migratePgSchema, SCHEMA_NAME } from './pg-migrations';
import { PG_CONVERSATION_TABLES, SQL } from './pg-statements';
import { toEntity, toPause, toQueue, toSnapshot, type EntityDbRow, type PauseDbRow, type QueueDbRow, type SnapshotDbRow } from './sqlite-rows';
import type {
  CommitBatch,
  ConversationRow,
  EntityRow,
  IdempotencyRow,
  PauseRow,
  QueueRow,
  RunRow,
  Store,
  StoredFrame,
  TurnSnapshot,
} from './store';

export interface PgStoreOptions {
  /** `postgres://user@host:port/db`; an optional `schema=<name>` query parameter picks the schema. */
  connectionString: string;
  /** PostgreSQL schema holding every table (overrides the URL's `schema`; default `public`). */
  schema?: string;
  /** Connections in the pool (default 8). */
  poolSize?: number;
  /** How long to wait for a connection (default 5000 ms). */
  connectionTimeoutMs?: number;
  /** `application_name` of the connections (default `moments-webchat`). */
  applicationName?: string;
  /**
   * TEST-ONLY: runs at the COMMIT step of each `commit` (a test sends COMMIT itself and then
   * throws, as if the connection broke after COMMIT was sent). Production never sets it.
   */
  beforeCommitForTest?: (client: pg.PoolClient) => Promise<void>;
}

/** The COMMIT was sent but not answered: the transaction may or may not be durable. */
export class CommitOutcomeUnknownError extends Error {
  readonly code = 'commit_outcome_unknown';
}

/** Rows deleted per statement by `expireIdempotency` (keeps each transaction short). */
const EXPIRE_CHUNK = 1000;
/** `/readyz` must answer quickly even when the database hangs. */
const PING_TIMEOUT_MS = 2000;
/**
 * A query with no answer for this long fails (client side), so a database that silently
 * stops answering (a network black hole) turns into a failed, retried commit instead of a
 * commit that waits forever.
 */
const QUERY_TIMEOUT_MS = 30_000;

/** Splits a database URL into what `pg` gets and the schema (`?schema=` or `public`). */
export function parseDatabaseUrl(url: string): { connectionString: string; schema: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? 'public';
  u.searchParams.delete('schema');
  return { connectionString: u.href, schema };
}

/** bigint (int8) columns come back as JS numbers: every value we store fits in 2^53. */
function typeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  return types;
}

/**
 * The PostgreSQL store: the same `Store` contract as the SQLite engine (store.ts) on a `pg.Pool`.
 *
 * - One transaction per group commit, one statement per part of the batch (pg-commit.ts).
 * - The log is a plain `frames (conv_id, seq)` table. SQLite needed an append layout
 *   (sqlite-log.ts) because its tables ARE B-trees clustered by key: one page per streaming
 *   conversation per commit. A PostgreSQL heap appends rows in commit order by itself; only
 *   the narrow primary-key index is ordered by (conv_id, seq). So a read is one index range
 *   scan, the head is an index probe, and "no seq stored twice" is the primary key.
 * - Every object lives in one schema (`search_path` of each pooled connection), so deployments
 *   and tests share a database without colliding.
 * - Reads see committed data only; the reads that combine two tables (projection, turns) see
 *   one snapshot.
 */
export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private migrated = false;
  private closed = false;
  /** The batch whose last COMMIT got no answer (the group committer retries the same object). */
  private unsureBatch: CommitBatch | null = null;
  private readonly beforeCommit: PgStoreOptions['beforeCommitForTest'];

  constructor(opts: PgStoreOptions) {
    this.beforeCommit = opts.beforeCommitForTest;
    const parsed = parseDatabaseUrl(opts.connectionString);
    this.schema = opts.schema ?? parsed.schema;
    if (!SCHEMA_NAME.test(this.schema)) {
      throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(this.schema)} (lower-case letters, digits, _)`);
    }
    this.pool = new pg.Pool({
      connectionString: parsed.connectionString,
      max: opts.poolSize ?? 8,
      connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5000,
      options: `-c search_path=${this.schema}`,
      application_name: opts.applicationName ?? 'moments-webchat',
      types: typeParsers(),
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle connection that dies (server restart, pg_terminate_backend) must not crash the
    // process; the pool replaces it, and the next query reports the outage.
    // A connection that dies while checked out, or emits a late socket error after the pool
    // dropped it, must not either: every client gets its own listener for its whole life.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  async migrate(): Promise<void> {
    this.open();
    await migratePgSchema(this.pool, this.schema);
    this.migrated = true;
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), PING_TIMEOUT_MS);
      });
      const r = await Promise.race([this.pool.query<{ ok: number }>(SQL.ping), timeout]);
      return r.rows[0]?.ok === 1;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // ---- the atomic write path -------------------------------------------------------------

  async commit(batch: CommitBatch): Promise<void> {
    // hashing the snapshots' blocks is the slow part: before the transaction
    const snapshotBlocks = (batch.turnSnapshots ?? []).map((s) => s.blocks.map(hashBlock));
    const maybeCommitted = this.unsureBatch === batch;
    try {
      await this.transaction((c) => applyBatch(c, batch, snapshotBlocks, maybeCommitted), 'BEGIN', this.beforeCommit);
      this.unsureBatch = null;
    } catch (err) {
      // A retry of a batch whose COMMIT went unanswered finds it stored: that is success.
      if (err instanceof BatchAlreadyCommitted) {
        this.unsureBatch = null;
        return;
      }
      this.unsureBatch = err instanceof CommitOutcomeUnknownError ? batch : null;
      throw err;
    }
  }

  // ---- reads -----------------------------------------------------------------------------

  async getConversation(convId: string): Promise<ConversationRow | null> {
    return (await this.rows<ConversationRow>(SQL.getConversation, [convId]))[0] ?? null;
  }

  async listConversations(opts: {
    limit: number;
    before?: { lastActivityMs: number; convId: string } | null;
    principal?: string | null;
  }): Promise<ConversationRow[]> {
    const limit = Math.max(0, Math.floor(opts.limit));
    this.ready();
    if (limit === 0) return [];
    const before = opts.before ?? null;
    return this.rows<ConversationRow>(SQL.listConversations, [limit, opts.principal ?? null, before?.lastActivityMs ?? null, before?.convId ?? null]);
  }

  async isTombstoned(convId: string): Promise<boolean> {
    return (await this.rows(SQL.isTombstoned, [convId])).length > 0;
  }

  async readFrames(convId: string, since: number, limit: number): Promise<StoredFrame[]> {
    const n = Math.max(0, Math.floor(limit));
    this.ready();
    if (n === 0) return [];
    return this.rows<StoredFrame>(SQL.readFrames, [convId, since, n]);
  }

  async logHead(convId: string): Promise<{ lastSeq: number; epoch: string | null }> {
    return (await this.rows<{ lastSeq: number; epoch: string | null }>(SQL.logHead, [convId]))[0]!;
  }

  async listOpenRuns(): Promise<RunRow[]> {
    return this.rows<RunRow>(SQL.listOpenRuns, []);
  }

  async getRun(convId: string, inferenceId: string): Promise<RunRow | null> {
    return (await this.rows<RunRow>(SQL.getRun, [inferenceId, convId]))[0] ?? null;
  }

  async listRecentRuns(convId: string, limit: number): Promise<RunRow[]> {
    const n = Math.max(0, Math.floor(limit));
    this.ready();
    return n === 0 ? [] : this.rows<RunRow>(SQL.listRecentRuns, [convId, n]);
  }

  async listOpenPauses(convId: string): Promise<PauseRow[]> {
    return (await this.rows<PauseDbRow>(SQL.listOpenPauses, [convId])).map(toPause);
  }

  async listQueue(convId: string): Promise<QueueRow[]> {
    return (await this.rows<QueueDbRow>(SQL.listQueue, [convId])).map(toQueue);
  }

  async listConversationsWithQueue(): Promise<string[]> {
    return (await this.rows<{ convId: string }>(SQL.listConversationsWithQueue, [])).map((r) => r.convId);
  }

  async getIdempotency(principal: string, key: string): Promise<IdempotencyRow | null> {
    return (await this.rows<IdempotencyRow>(SQL.getIdempotency, [principal, key]))[0] ?? null;
  }

  async loadProjection(convId: string): Promise<{ cursor: number; entities: EntityRow[] }> {
    const rows = await this.rows<EntityDbRow & { cursor: number }>(SQL.loadProjection, [convId]);
    const entities = rows.filter((r) => r.id !== null).map(({ cursor: _c, ...e }) => toEntity(e));
    return { cursor: rows[0]?.cursor ?? 0, entities };
  }

  // ---- turns -----------------------------------------------------------------------------

  async saveTurnSnapshot(s: TurnSnapshot): Promise<void> {
    const hashed = s.blocks.map(hashBlock);
    await this.transaction((c) => writeSnapshots(c, [s], [hashed]));
  }

  async loadTurns(convId: string): Promise<TurnSnapshot[]> {
    // snapshots and their blocks from one snapshot of the database
    const { snaps, blocks } = await this.transaction(
      async (c) => ({
        snaps: (await c.query<SnapshotDbRow>(SQL.latestSnapshots, [convId])).rows,
        blocks: (await c.query<{ hash: Buffer; json: string }>(SQL.blocksOf, [convId])).rows,
      }),
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
    const json = new Map(blocks.map((b) => [b.hash.toString('hex'), b.json]));
    const cache = new Map<string, Block>();
    const lookup = (hash: Buffer): Block => {
      const key = hash.toString('hex');
      let block = cache.get(key);
      if (!block) {
        const text = json.get(key);
        if (text === undefined) throw new Error(`store: block ${key} of conversation ${convId} is missing`);
        block = JSON.parse(text) as Block;
        cache.set(key, block);
      }
      return block;
    };
    return snaps.map((r) => toSnapshot(r, lookup));
  }

  // ---- delete ----------------------------------------------------------------------------

  /** Removes every row of the conversation, and the blocks no other conversation references. */
  async deleteConversation(convId: string, atMs: number): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(SQL.deleteOrphanBlocks, [convId]); // reads conversation_blocks, so before that table is cleared
      for (const table of PG_CONVERSATION_TABLES) await c.query(`DELETE FROM ${table} WHERE conv_id = $1`, [convId]);
      await c.query(SQL.insertTombstone, [convId, atMs]);
    });
  }

  /** Deletes in chunks of EXPIRE_CHUNK rows, one short statement each. */
  async expireIdempotency(beforeMs: number): Promise<number> {
    this.ready();
    let total = 0;
    for (;;) {
      const n = (await this.pool.query(SQL.expireIdempotency, [beforeMs, EXPIRE_CHUNK])).rowCount ?? 0;
      total += n;
      if (n < EXPIRE_CHUNK) return total;
    }
  }

  // ---- plumbing --------------------------------------------------------------------------

  private async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    this.ready();
    return (await this.pool.query(sql, params)).rows as T[];
  }

  /** Runs `fn` in one transaction on one pooled connection; rolls back and rethrows on error. */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN', beforeCommit?: (c: pg.PoolClient) => Promise<void>): Promise<T> {
    this.ready();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const out = await fn(client);
      try {
        await beforeCommit?.(client);
        await client.query('COMMIT');
      } catch (err) {
        throw new CommitOutcomeUnknownError(`COMMIT got no answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      return out;
    } catch (err) {
      // A connection that cannot even roll back is discarded, not returned to the pool.
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private open(): void {
    if (this.closed) throw new Error('PgStore: the store is closed');
  }

  private ready(): void {
    this.open();
    if (!this.migrated) throw new Error('PgStore: call migrate() before using the store');
  }
}
