import type { CommitBatch } from './store';

/** The errors a store's commit throws, the same for every engine. */

/** The part of a `CommitBatch` a failed commit was writing. */
export type CommitPart =
  | 'conversations'
  | 'fences'
  | 'frames'
  | 'runs'
  | 'pauses'
  | 'queueInserts'
  | 'queueDeletes'
  | 'idempotency'
  | 'idempotencyEnded'
  | 'projections'
  | 'turnSnapshots';

/** A commit's frame would not be above its conversation's committed head (or repeats a seq). */
export class SeqConflictError extends Error {
  readonly code = 'seq_conflict';
  constructor(
    /** Position of the offending frame in the batch's `frames`. */
    readonly index: number,
    convId: string,
    seq: number,
    head: number,
  ) {
    super(`seq ${seq} of conversation ${convId} is not above its committed head ${head} (a seq is never stored twice)`);
  }
}

/**
 * Scale-out: the commit carried a fencing token lower than one that already committed for the
 * conversation (another instance took it over), or the conversation has no row to hold it.
 */
export class FenceError extends Error {
  readonly code = 'fenced';
  constructor(
    /** Position of the offending entry in the batch's `fences`. */
    readonly index: number,
    convId: string,
    token: number,
  ) {
    super(`fencing token ${token} of conversation ${convId} is stale (a newer owner committed) or the conversation has no row`);
  }
}

/** A commit that failed; the transaction was rolled back, nothing of the batch was applied. */
export class StoreCommitError extends Error {
  readonly code: string;
  constructor(
    readonly part: CommitPart,
    readonly item: string,
    cause: unknown,
  ) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super(`store commit rolled back: ${part} ${item}: ${inner}`, { cause });
    /** The cause's code (seq_conflict, fenced, an SQLite code like SQLITE_CONSTRAINT_PRIMARYKEY, a PostgreSQL SQLSTATE), else 'commit_failed'. */
    const code = cause instanceof Error ? (cause as Error & { code?: unknown }).code : undefined;
    this.code = typeof code === 'string' ? code : 'commit_failed';
  }
}

export function describeItem(b: CommitBatch, part: CommitPart, i: number): string {
  switch (part) {
    case 'conversations':
      return `#${i} (conv ${b.conversations[i]?.convId})`;
    case 'fences':
      return `#${i} (conv ${b.fences?.[i]?.convId} token ${b.fences?.[i]?.token})`;
    case 'frames':
      return `#${i} (conv ${b.frames[i]?.convId} seq ${b.frames[i]?.seq})`;
    case 'runs':
      return `#${i} (inference ${b.runs[i]?.inferenceId})`;
    case 'pauses':
      return `#${i} (pause ${b.pauses[i]?.pauseId})`;
    case 'queueInserts':
      return `#${i} (conv ${b.queueInserts[i]?.convId} turn ${b.queueInserts[i]?.turnId})`;
    case 'queueDeletes':
      return `#${i} (conv ${b.queueDeletes[i]?.convId} turn ${b.queueDeletes[i]?.turnId})`;
    case 'idempotency':
      return `#${i} (principal ${JSON.stringify(b.idempotency[i]?.principal)} key ${JSON.stringify(b.idempotency[i]?.key)})`;
    case 'idempotencyEnded':
      return `#${i} (key ${JSON.stringify(b.idempotencyEnded[i]?.key)})`;
    case 'projections':
      return `#${i} (conv ${b.projections[i]?.convId})`;
    case 'turnSnapshots':
      return `#${i} (conv ${b.turnSnapshots[i]?.convId} turn ${b.turnSnapshots[i]?.turnId} ${b.turnSnapshots[i]?.phase})`;
  }
}
