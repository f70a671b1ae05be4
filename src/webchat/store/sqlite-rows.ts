import type { Block } from '../../inference/turn';
import { BLOCK_HASH_BYTES } from './block-hash';
import type { ConversationRow, EntityRow, PauseRow, QueueRow, TurnSnapshot } from './store';

/**
 * Conversions between SQLite rows (as the statements of sqlite-statements.ts return them:
 * camelCase aliases, integers for booleans, JSON text for structured fields) and the shapes of
 * store.ts.
 */

export type ConversationDbRow = Omit<ConversationRow, 'stepMode'> & { stepMode: number };
export type PauseDbRow = Omit<PauseRow, 'toolCallIds'> & { toolCallIds: string };
export type QueueDbRow = Omit<QueueRow, 'runtime'> & { runtime: string };
export type EntityDbRow = Omit<EntityRow, 'props'> & { props: string };
export interface SnapshotDbRow {
  convId: string;
  turnId: string;
  phase: TurnSnapshot['phase'];
  inferenceId: string | null;
  status: string | null;
  createdAtMs: number;
  metadata: string;
  blockCount: number;
  blockHashes: Buffer;
}

export function toConversation(r: ConversationDbRow): ConversationRow {
  return { ...r, stepMode: r.stepMode !== 0 };
}

export function toPause(r: PauseDbRow): PauseRow {
  return { ...r, toolCallIds: JSON.parse(r.toolCallIds) as string[] };
}

export function toQueue(r: QueueDbRow): QueueRow {
  return { ...r, runtime: JSON.parse(r.runtime) as unknown };
}

export function toEntity(r: EntityDbRow): EntityRow {
  return { ...r, props: JSON.parse(r.props) as unknown };
}

/** JSON text of an `unknown` field; `undefined` is stored as `null`. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Splits a packed hash list into its 32-byte hashes (views into `packed`, no copy). */
export function unpackHashes(packed: Buffer, count: number): Buffer[] {
  if (packed.length !== count * BLOCK_HASH_BYTES) {
    throw new Error(`corrupt turn snapshot: ${packed.length} hash bytes for ${count} blocks`);
  }
  const out: Buffer[] = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) out[i] = packed.subarray(i * BLOCK_HASH_BYTES, (i + 1) * BLOCK_HASH_BYTES);
  return out;
}

/** Resolves a snapshot row's blocks through `lookup` (hash → block), sharing parsed blocks. */
export function toSnapshot(r: SnapshotDbRow, lookup: (hash: Buffer) => Block): TurnSnapshot {
  const blocks = unpackHashes(r.blockHashes, r.blockCount).map(lookup);
  return {
    convId: r.convId,
    turnId: r.turnId,
    phase: r.phase,
    inferenceId: r.inferenceId,
    status: r.status,
    createdAtMs: r.createdAtMs,
    blocks,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
  };
}
