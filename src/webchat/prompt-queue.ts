import { createHash } from 'node:crypto';
import { entityIds } from '../protocol/ids';
import type { ConversationLog } from './conversation-log';
import type { GroupCommitter } from './group-committer';
import type { PromptRuntime } from './runtime-profile';

/** A prompt accepted by a conversation: queued, or about to start. */
export interface QueuedPrompt {
  turnId: string;
  prompt: string;
  runtime: PromptRuntime;
  idempotencyKey: string | null;
  principal: string | null;
  orderKey: number;
  acceptedAtMs: number;
}

/** Idempotency keys are scoped to the principal (D7). */
export const idemScope = (principal: string | null) => principal ?? 'anonymous';
export const promptHash = (prompt: string) => createHash('sha256').update(prompt).digest('hex');

/**
 * The stored, visible prompt queue of one conversation (D7): every change is a `run.queued`
 * frame appended together with the queue row (and idempotency record) it changes, in the same
 * group-commit transaction, so every tab sees the queue and a restart drains it in order.
 */
export class PromptQueue {
  private items: QueuedPrompt[];

  constructor(private readonly convId: string, private readonly log: ConversationLog, private readonly committer: GroupCommitter, items: QueuedPrompt[]) {
    this.items = [...items].sort((a, b) => a.orderKey - b.orderKey);
  }

  get length(): number {
    return this.items.length;
  }
  get all(): readonly QueuedPrompt[] {
    return this.items;
  }
  /** 1-based position, 0 when not queued. */
  position(item: QueuedPrompt): number {
    return this.items.indexOf(item) + 1;
  }
  find(turnId: string): QueuedPrompt | undefined {
    return this.items.find((x) => x.turnId === turnId);
  }

  private frame(item: QueuedPrompt, status: 'queued' | 'started' | 'dropped', reason: string | null, position: number): number | null {
    return this.log.append({
      type: 'run.queued', id: entityIds.queue(item.turnId), metadata: null, inferenceId: null,
      data: { turnId: item.turnId, idempotencyKey: item.idempotencyKey, prompt: item.prompt, status, reason, position, depth: this.items.length },
    });
  }

  /** Queues a prompt at the end; returns the seq of its `run.queued` frame. */
  push(item: QueuedPrompt): number {
    this.items.push(item);
    const seq = this.frame(item, 'queued', null, this.items.length)!;
    item.orderKey = seq;
    this.log.batch.queueInserts.push({
      convId: this.convId, turnId: item.turnId, orderKey: item.orderKey, prompt: item.prompt, idempotencyKey: item.idempotencyKey,
      principal: item.principal, runtime: item.runtime, acceptedAtMs: item.acceptedAtMs,
    });
    this.recordIdempotency(item);
    return seq;
  }

  /** Takes the head (the caller starts it or drops it). */
  shift(): QueuedPrompt | undefined {
    return this.items.shift();
  }

  /** The head is starting: `run.queued started`, its row removed. */
  markStarted(item: QueuedPrompt): void {
    this.frame(item, 'started', null, 0);
    this.log.batch.queueDeletes.push({ convId: this.convId, turnId: item.turnId });
  }

  /** A prompt will never run: `run.queued dropped` (reason), row removed, idempotency ended. */
  markDropped(item: QueuedPrompt, reason: string): void {
    this.frame(item, 'dropped', reason, 0);
    this.log.batch.queueDeletes.push({ convId: this.convId, turnId: item.turnId });
    if (item.idempotencyKey) this.markIdemEnded(idemScope(item.principal), item.idempotencyKey);
  }

  /** Drops every queued prompt (clear_queue, delete). */
  dropAll(reason: string): void {
    const items = this.items;
    this.items = [];
    for (const q of items) this.markDropped(q, reason);
  }

  /** Records an accepted prompt's idempotency key with its acceptance (same transaction). */
  recordIdempotency(item: QueuedPrompt): void {
    if (!item.idempotencyKey) return;
    this.log.batch.idempotency.push({
      principal: idemScope(item.principal), key: item.idempotencyKey, convId: this.convId, turnId: item.turnId,
      promptHash: promptHash(item.prompt), createdAtMs: item.acceptedAtMs, endedAtMs: null,
    });
  }

  /** The prompt's run ended (or it was dropped): its record expires 24 h from now. */
  markIdemEnded(principal: string, key: string): void {
    this.log.batch.idempotencyEnded.push({ principal, key, endedAtMs: Date.now() });
    this.committer.touch(this.log);
  }
}
