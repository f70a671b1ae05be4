import type { CommittedFrame, DeliveredFrame } from '../frame-bus';
import type { GapFiller, StoredFrame } from '../frame-reader';

/**
 * Test stand-in for the commit point (PostgreSQL in production): the committed frames of every
 * conversation in memory, with the gap filler a frame reader calls. Not a Redis stand-in: the
 * frame-bus tests run against real Redis servers.
 */
export class MemoryFrameStore {
  readonly #frames = new Map<string, StoredFrame[]>();
  /** Conversations whose gap fills fail (a store outage), while set. */
  readonly failing = new Set<string>();
  fills = 0;

  /** Commits the next frame of `convId` and returns it (seq contiguous from 1). */
  commit(convId: string, body: unknown = null): CommittedFrame {
    const list = this.#frames.get(convId) ?? [];
    this.#frames.set(convId, list);
    const seq = list.length + 1;
    const json = JSON.stringify({ conv: convId, seq, body });
    list.push({ seq, json });
    return { convId, seq, json };
  }

  frames(convId: string): readonly StoredFrame[] {
    return this.#frames.get(convId) ?? [];
  }

  readonly fillGap: GapFiller = async (convId, afterSeq, uptoSeq) => {
    this.fills++;
    await Promise.resolve();
    if (this.failing.has(convId)) throw new Error(`store unavailable for ${convId}`);
    return this.frames(convId).filter((f) => f.seq > afterSeq && (uptoSeq === null || f.seq <= uptoSeq));
  };
}

/** Collects what a reader delivers, per conversation. */
export class DeliveryLog {
  readonly byConv = new Map<string, DeliveredFrame[]>();

  readonly deliver = (convId: string, frames: readonly DeliveredFrame[]): void => {
    const list = this.byConv.get(convId) ?? [];
    this.byConv.set(convId, list);
    list.push(...frames);
  };

  seqs(convId: string): number[] {
    return (this.byConv.get(convId) ?? []).map((f) => f.seq);
  }

  count(convId: string): number {
    return this.byConv.get(convId)?.length ?? 0;
  }
}

/** Deterministic PRNG (mulberry32) for fixed-seed schedules. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
