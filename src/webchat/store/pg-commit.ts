import type { PoolClient } from 'pg';
import { BLOCK_HASH_BYTES, type HashedBlock } from './block-hash';
import { jsonText } from './sqlite-rows';
import { SQL } from './pg-statements';
import { describeItem, FenceError, SeqConflictError, StoreCommitError, type CommitPart } from './store-errors';
import type { CommitBatch, StoredFrame, TurnSnapshot } from './store';

/**
 * Applies one group-commit batch inside the caller's PostgreSQL transaction with a bounded
 * number of statements: ONE statement per part of the batch (frames of every conversation in
 * one `INSERT … SELECT FROM unnest(…)`), plus one query for the conversations' committed heads.
 * A part whose key repeats inside the batch (a run opened and closed in the same window) is
 * written in "rounds" (one statement per occurrence depth, applied in batch order), because one
 * PostgreSQL statement may not touch a row twice; a batch of the group committer has one round
 * almost always.
 */

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Thrown (and caught by PgStore.commit, which then resolves) when a batch whose previous COMMIT
 * got no answer turns out to be stored already: every one of its frames is in the table,
 * byte-identical. A transaction is all or nothing, so the rest of it is stored too.
 */
export class BatchAlreadyCommitted extends Error {}

/**
 * `maybeCommitted`: this very batch was committed before and the COMMIT's outcome is unknown
 * (the connection broke after sending it); a seq conflict then checks whether it is stored.
 */
export async function applyBatch(client: PoolClient, b: CommitBatch, snapshotBlocks: HashedBlock[][], maybeCommitted = false): Promise<void> {
  let part: CommitPart = 'conversations';
  let i = 0;
  try {
    for (const round of rounds(b.conversations, (u) => u.convId)) {
      for (const u of round) if (u.create.convId !== u.convId) throw new Error(`create.convId ${u.create.convId} differs from ${u.convId}`);
      const c = round.map((u) => u.create);
      const d = round.map((u) => u.update);
      await client.query(SQL.upsertConversations, [
        round.map((u) => u.convId),
        c.map((r) => r.title),
        c.map((r) => r.createdAtMs),
        c.map((r) => r.lastActivityMs),
        c.map((r) => r.runtimeKey),
        c.map((r) => r.busyPolicy),
        c.map((r) => r.stepMode),
        c.map((r) => r.principal),
        c.map((r) => r.epoch),
        c.map((r) => r.lastSeq),
        d.map((u) => u.title ?? null),
        d.map((u) => u.lastActivityMs ?? null),
        d.map((u) => u.runtimeKey ?? null),
        d.map((u) => u.busyPolicy ?? null),
        d.map((u) => u.stepMode ?? null),
        d.map((u) => u.epoch ?? null),
        d.map((u) => u.lastSeq ?? null),
        d.map((u) => Object.values(u).some((v) => v !== undefined)),
      ]);
    }

    part = 'fences';
    i = 0;
    const fences = b.fences ?? [];
    if (fences.length > 0) {
      // lowest token per conversation would be the binding one; the owner sends one per conversation
      const r = await client.query<{ convId: string }>(SQL.checkFences, [fences.map((f) => f.convId), fences.map((f) => f.token)]);
      const accepted = new Set(r.rows.map((x) => x.convId));
      i = fences.findIndex((f) => !accepted.has(f.convId));
      if (i >= 0) throw new FenceError(i, fences[i]!.convId, fences[i]!.token);
    }

    part = 'frames';
    i = 0;
    if (b.frames.length > 0) {
      try {
        await checkSeqs(client, b.frames);
      } catch (err) {
        if (maybeCommitted && err instanceof SeqConflictError && (await allStored(client, b.frames))) throw new BatchAlreadyCommitted();
        throw err;
      }
      const f = b.frames;
      try {
        await client.query(SQL.insertFrames, [
          f.map((x) => x.convId),
          f.map((x) => x.seq),
          f.map((x) => x.epoch),
          f.map((x) => x.type),
          f.map((x) => x.entityId),
          f.map((x) => x.json),
          f.map((x) => x.createdAtMs),
        ]);
      } catch (err) {
        // Another writer committed the same seq after our head check (two owners): the same
        // answer as a head conflict.
        if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) throw new SeqConflictError(0, f[0]!.convId, f[0]!.seq, -1);
        throw err;
      }
    }

    part = 'runs';
    for (const r of rounds(b.runs, (x) => x.inferenceId)) {
      await client.query(SQL.upsertRuns, [
        r.map((x) => x.inferenceId),
        r.map((x) => x.convId),
        r.map((x) => x.turnId),
        r.map((x) => x.status),
        r.map((x) => x.reason),
        r.map((x) => x.startedAtMs),
        r.map((x) => x.endedAtMs),
        r.map((x) => x.endSeq),
      ]);
    }
    part = 'pauses';
    for (const r of rounds(b.pauses, (x) => x.pauseId)) {
      await client.query(SQL.upsertPauses, [
        r.map((x) => x.pauseId),
        r.map((x) => x.convId),
        r.map((x) => x.inferenceId),
        r.map((x) => x.phase),
        r.map((x) => x.summary),
        r.map((x) => x.deadlineMs),
        r.map((x) => JSON.stringify(x.toolCallIds)),
        r.map((x) => x.resolution),
      ]);
    }
    part = 'queueInserts';
    for (const r of rounds(b.queueInserts, (x) => `${x.convId}\u0000${x.turnId}`)) {
      await client.query(SQL.insertQueue, [
        r.map((x) => x.convId),
        r.map((x) => x.turnId),
        r.map((x) => x.orderKey),
        r.map((x) => x.prompt),
        r.map((x) => x.idempotencyKey),
        r.map((x) => x.principal),
        r.map((x) => jsonText(x.runtime)),
        r.map((x) => x.acceptedAtMs),
      ]);
    }
    part = 'queueDeletes';
    if (b.queueDeletes.length > 0) {
      await client.query(SQL.deleteQueue, [b.queueDeletes.map((x) => x.convId), b.queueDeletes.map((x) => x.turnId)]);
    }
    part = 'idempotency';
    for (const r of rounds(b.idempotency, (x) => `${x.principal}\u0000${x.key}`)) {
      await client.query(SQL.insertIdempotency, [
        r.map((x) => x.principal),
        r.map((x) => x.key),
        r.map((x) => x.convId),
        r.map((x) => x.turnId),
        r.map((x) => x.promptHash),
        r.map((x) => x.createdAtMs),
        r.map((x) => x.endedAtMs),
      ]);
    }
    part = 'idempotencyEnded';
    for (const r of rounds(b.idempotencyEnded, (x) => `${x.principal}\u0000${x.key}`)) {
      await client.query(SQL.endIdempotency, [r.map((x) => x.principal), r.map((x) => x.key), r.map((x) => x.endedAtMs)]);
    }
    part = 'projections';
    const entities = b.projections.flatMap((p) => p.upserts.map((e) => ({ convId: p.convId, e })));
    for (const r of rounds(entities, (x) => `${x.convId}\u0000${x.e.id}`)) {
      await client.query(SQL.upsertEntities, [
        r.map((x) => x.convId),
        r.map((x) => x.e.id),
        r.map((x) => x.e.kind),
        r.map((x) => x.e.firstSeq),
        r.map((x) => x.e.version),
        r.map((x) => x.e.createdAtMs),
        r.map((x) => x.e.updatedAtMs),
        r.map((x) => jsonText(x.e.props)),
      ]);
    }
    for (const r of rounds(b.projections, (p) => p.convId)) {
      await client.query(SQL.upsertCursors, [r.map((p) => p.convId), r.map((p) => p.cursor)]);
    }
    part = 'turnSnapshots';
    i = 0;
    await writeSnapshots(client, b.turnSnapshots ?? [], snapshotBlocks);
  } catch (err) {
    if (err instanceof BatchAlreadyCommitted) throw err;
    if (err instanceof SeqConflictError) i = err.index;
    if (err instanceof FenceError) i = err.index;
    throw new StoreCommitError(part, describeItem(b, part, i), err);
  }
}

/**
 * Every frame's seq must be above its conversation's committed head and above the previous
 * frame of its conversation in the batch (the batch is sorted per conversation first, as the
 * SQLite engine does). One query reads the heads of all the batch's conversations.
 */
async function checkSeqs(client: PoolClient, frames: readonly StoredFrame[]): Promise<void> {
  const groups = new Map<string, number[]>();
  for (let k = 0; k < frames.length; k++) {
    const c = frames[k]!.convId;
    const g = groups.get(c);
    if (g) g.push(k);
    else groups.set(c, [k]);
  }
  const r = await client.query<{ convId: string; head: number | null }>(SQL.heads, [[...groups.keys()]]);
  const heads = new Map(r.rows.map((x) => [x.convId, x.head ?? 0]));
  for (const [convId, idx] of groups) {
    idx.sort((a, z) => frames[a]!.seq - frames[z]!.seq || a - z);
    let head = heads.get(convId) ?? 0;
    for (const k of idx) {
      const seq = frames[k]!.seq;
      if (seq <= head) throw new SeqConflictError(k, convId, seq, head);
      head = seq;
    }
  }
}

/** Whether every frame is stored exactly as given (one query). */
async function allStored(client: PoolClient, frames: readonly StoredFrame[]): Promise<boolean> {
  const r = await client.query<{ n: number }>(SQL.countIdenticalFrames, [
    frames.map((x) => x.convId),
    frames.map((x) => x.seq),
    frames.map((x) => x.epoch),
    frames.map((x) => x.type),
    frames.map((x) => x.entityId),
    frames.map((x) => x.json),
    frames.map((x) => x.createdAtMs),
  ]);
  return r.rows[0]!.n === frames.length;
}

/**
 * Turn snapshots in four statements for any number of them: which (conversation, block) pairs
 * are new (RETURNING), then only those blocks' JSON (a block this conversation already stored
 * costs an index probe and no JSON on the wire), then the turns and the snapshot rows. A later
 * snapshot of the same turn and phase replaces an earlier one; a new turn is ordered by its
 * first snapshot.
 */
export async function writeSnapshots(client: PoolClient, snaps: readonly TurnSnapshot[], hashed: readonly HashedBlock[][]): Promise<void> {
  if (snaps.length === 0) return;
  const pairs = new Map<string, { convId: string; hash: Buffer }>();
  const jsonOf = new Map<string, string>();
  snaps.forEach((s, k) => {
    for (const h of hashed[k]!) {
      const hex = h.hash.toString('hex');
      pairs.set(`${s.convId}\u0000${hex}`, { convId: s.convId, hash: h.hash });
      jsonOf.set(hex, h.json);
    }
  });
  if (pairs.size > 0) {
    const p = [...pairs.values()];
    const fresh = await client.query<{ hash: Buffer }>(SQL.insertConversationBlocks, [p.map((x) => x.convId), p.map((x) => x.hash)]);
    const newHashes = [...new Set(fresh.rows.map((x) => x.hash.toString('hex')))];
    if (newHashes.length > 0) {
      await client.query(SQL.insertBlocks, [newHashes.map((h) => Buffer.from(h, 'hex')), newHashes.map((h) => jsonOf.get(h)!)]);
    }
  }
  const turns = new Map<string, { convId: string; turnId: string; phase: string }>();
  const rows = new Map<string, { s: TurnSnapshot; packed: Buffer }>();
  snaps.forEach((s, k) => {
    const tk = `${s.convId}\u0000${s.turnId}`;
    const t = turns.get(tk);
    if (t) t.phase = s.phase;
    else turns.set(tk, { convId: s.convId, turnId: s.turnId, phase: s.phase });
    const rk = `${tk}\u0000${s.phase}`;
    rows.delete(rk); // re-insert: Map order = last write
    rows.set(rk, { s, packed: Buffer.concat(hashed[k]!.map((h) => h.hash)) });
  });
  const t = [...turns.values()];
  await client.query(SQL.upsertTurns, [t.map((x) => x.convId), t.map((x) => x.turnId), t.map((x) => x.phase)]);
  const r = [...rows.values()];
  const now = Date.now();
  await client.query(SQL.upsertSnapshots, [
    r.map((x) => x.s.convId),
    r.map((x) => x.s.turnId),
    r.map((x) => x.s.phase),
    r.map((x) => x.s.inferenceId),
    r.map((x) => x.s.status),
    r.map((x) => x.s.createdAtMs),
    r.map(() => now),
    r.map((x) => jsonText(x.s.metadata)),
    r.map((x) => x.packed.length / BLOCK_HASH_BYTES),
    r.map((x) => x.packed),
  ]);
}

/** Splits `items` into rounds in which each key appears once; round k holds every key's k-th occurrence. */
export function rounds<T>(items: readonly T[], key: (t: T) => string): T[][] {
  if (items.length === 0) return [];
  const seen = new Map<string, number>();
  const out: T[][] = [];
  for (const it of items) {
    const k = key(it);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(it);
  }
  return out;
}
