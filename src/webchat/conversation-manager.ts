import { randomUUID } from 'node:crypto';
import type { Turn } from '../inference/turn';
import type { WsLike } from './chat-service';
import type { AnyFrameEvent } from '../protocol/frames';
import { Conversation, type ConversationDeps } from './conversation';
import type { QueuedPrompt } from './prompt-queue';
import { ConversationLog } from './conversation-log';
import { closeInterruptedRun } from './conversation-recovery';
import type { PromptRuntime } from './runtime-profile';
import type { ConversationRow } from './store/store';
import { TimelineProjection } from './timeline-projection';
import { WaitingSockets } from './waiting-sockets';
import { WebchatError } from './webchat-error';

export interface ManagerOptions extends ConversationDeps {
  /** Runtime of a conversation that has none yet (the default profile). */
  defaultRuntime: () => PromptRuntime;
  evictIdleMs: number;
  hotWindow?: number;
  /** Delta coalescing window (ms; 0 = off). */
  coalesceMs?: number;
}

const RECENT_RUNS = 50;
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Loads, keeps and unloads conversations: `get` returns the live conversation or loads it
 * (turns, log head and epoch, projection replayed from its cursor, queue, open runs/pauses);
 * eviction unloads idle ones without losing anything; start-up closes runs the previous
 * process left open and drains queues.
 */
export class ConversationManager {
  private readonly convs = new Map<string, Conversation>();
  private readonly loading = new Map<string, Promise<Conversation | null>>();
  private readonly deletedIds = new Set<string>();
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Sockets of conversations that do not exist yet: they load nothing (ghost conversations). */
  readonly waiting: WaitingSockets;

  constructor(private readonly o: ManagerOptions) {
    this.waiting = new WaitingSockets(o.metrics);
  }

  get loadedCount(): number {
    return this.convs.size;
  }
  loaded(): Conversation[] {
    return [...this.convs.values()];
  }
  peek(convId: string): Conversation | undefined {
    return this.convs.get(convId);
  }

  /** True when the id was deleted (tombstone). */
  async isDeleted(convId: string): Promise<boolean> {
    if (this.deletedIds.has(convId)) return true;
    const t = await this.o.store.isTombstoned(convId);
    if (t) this.deletedIds.add(convId);
    return t;
  }

  /**
   * The conversation, loaded if needed. `create`: an unknown id gets an in-memory conversation
   * (persisted by its first frame); otherwise null — only a prompt creates a conversation:
   * reading or watching one that does not exist allocates nothing. A deleted id throws
   * `conversation_deleted`.
   */
  async get(convId: string, create: boolean): Promise<Conversation | null> {
    const live = this.convs.get(convId);
    if (live) return live;
    let p = this.loading.get(convId);
    if (!p) {
      p = this.load(convId, create).finally(() => this.loading.delete(convId));
      this.loading.set(convId, p);
    }
    const c = await p;
    if (!c && create) return this.get(convId, create);
    return c;
  }

  private async load(convId: string, create: boolean): Promise<Conversation | null> {
    if (await this.isDeleted(convId)) throw new WebchatError('conversation_deleted', `conversation ${convId} was deleted`);
    const store = this.o.store;
    const row = await store.getConversation(convId);
    if (!row && !create) return null;
    const rt = this.o.defaultRuntime();
    const now = Date.now();
    const r: ConversationRow = row ?? {
      convId, title: '', createdAtMs: now, lastActivityMs: now, runtimeKey: rt.profile.slug, busyPolicy: rt.profile.busyPolicy,
      // the epoch its waiting sockets were told in ws.hello, if any
      stepMode: rt.profile.stepMode, principal: null, epoch: this.waiting.epochOf(convId) ?? randomUUID(), lastSeq: 0,
    };
    const head = row ? await store.logHead(convId) : { lastSeq: 0, epoch: r.epoch };
    const proj = row ? await store.loadProjection(convId) : { cursor: 0, entities: [] };
    const projection = TimelineProjection.fromRows(proj.cursor, proj.entities);
    // last activity is the time of the last frame (the row's copy may lag it, or be missing)
    let lastActivityMs = r.lastActivityMs;
    // replay the log from the projection cursor, so the timeline is exact at its version
    for (let since = proj.cursor; since < head.lastSeq; ) {
      const frames = await store.readFrames(convId, since, 5000);
      if (frames.length === 0) break;
      for (const f of frames) projection.apply((JSON.parse(f.json) as { event: AnyFrameEvent }).event, f.createdAtMs);
      since = frames[frames.length - 1]!.seq;
      lastActivityMs = frames[frames.length - 1]!.createdAtMs;
    }
    if (row && head.lastSeq > 0 && proj.cursor >= head.lastSeq) {
      const last = await store.readFrames(convId, head.lastSeq - 1, 1);
      if (last[0]) lastActivityMs = last[0].createdAtMs;
    }
    const runs = row ? await store.listRecentRuns(convId, RECENT_RUNS) : [];
    const openRuns = row ? (await store.listOpenRuns()).filter((x) => x.convId === convId) : [];
    const pauses = row ? await store.listOpenPauses(convId) : [];
    const queueRows = row ? await store.listQueue(convId) : [];
    const snapshots = row ? await store.loadTurns(convId) : [];
    if (this.convs.has(convId)) return this.convs.get(convId)!;
    const turns: Turn[] = snapshots.map((s) => ({ id: s.turnId, blocks: s.blocks, metadata: s.metadata, data: {} }));
    const queue: QueuedPrompt[] = queueRows.map((q) => ({
      turnId: q.turnId, prompt: q.prompt, runtime: q.runtime as PromptRuntime, idempotencyKey: q.idempotencyKey,
      principal: q.principal, orderKey: q.orderKey, acceptedAtMs: q.acceptedAtMs,
    }));
    let conv!: Conversation;
    const log = new ConversationLog({
      convId, epoch: head.epoch ?? r.epoch, lastSeq: head.lastSeq, store, committer: this.o.committer, metrics: this.o.metrics, projection,
      openRuns, openPauses: pauses, closedRuns: runs.filter((x) => x.status !== 'open'),
      row: () => conv.row, hotWindow: this.o.hotWindow, coalesceMs: this.o.coalesceMs, lastActivityMs,
    });
    conv = new Conversation(r, log, turns, queue, this.o);
    this.convs.set(convId, conv);
    this.o.metrics.conversationsLoaded(this.convs.size);
    this.adoptWaiting(conv);
    return conv;
  }

  /** Sockets that waited for this conversation: live from seq 0 (before its first frame). */
  private adoptWaiting(conv: Conversation): void {
    const w = this.waiting.take(conv.convId);
    if (!w) return;
    if (w.epoch !== conv.log.epoch) {
      // cannot happen for a new conversation (it takes their epoch); never leave them waiting
      for (const ws of w.sockets) ws.close(1012, 'conversation reloaded: reconnect');
      return;
    }
    for (const ws of w.sockets) conv.adoptWaiting(ws);
  }

  /**
   * A socket for `convId`: attached to the conversation when it exists, else it waits for the
   * first prompt to create it (protocol: accepted, waits, creates nothing).
   */
  async attachSocket(convId: string, ws: WsLike, opts: { since: number | null; epoch: string | null }): Promise<void> {
    const c = await this.get(convId, false);
    if (c) {
      await c.attach(ws, opts.since, opts.epoch);
      return;
    }
    // created while we looked? (get() resolved null, a prompt may have created it since)
    const live = this.convs.get(convId);
    if (live) {
      await live.attach(ws, opts.since, opts.epoch);
      return;
    }
    this.waiting.add(convId, ws, { ...opts, runtimeKey: this.o.defaultRuntime().profile.slug });
  }

  /** Deletes a conversation (it must exist). */
  async delete(convId: string): Promise<void> {
    const c = await this.get(convId, false);
    if (!c || (c.log.headSeq === 0 && !(await this.o.store.getConversation(convId)))) {
      throw new WebchatError('conversation_not_found', `conversation ${convId} not found`);
    }
    await c.delete();
    this.deletedIds.add(convId);
    this.convs.delete(convId);
    this.o.metrics.conversationsLoaded(this.convs.size);
  }

  /** Start-up: close runs without run.end (`interrupted`), then drain stored queues. */
  async recover(): Promise<{ closedRuns: number; drained: number }> {
    const store = this.o.store;
    const open = await store.listOpenRuns();
    for (const run of open) {
      const c = await this.get(run.convId, false);
      if (c) closeInterruptedRun(c, run);
    }
    const withQueue = await store.listConversationsWithQueue();
    for (const convId of withQueue) (await this.get(convId, false))?.drain();
    await this.o.committer.flush();
    return { closedRuns: open.length, drained: withQueue.length };
  }

  /** Unloads conversations with nothing in flight that were idle for `evictIdleMs`. */
  sweep(now = Date.now()): number {
    let n = 0;
    for (const [id, c] of this.convs) {
      if (c.evictable(this.o.evictIdleMs, now)) {
        this.convs.delete(id);
        n++;
      }
    }
    if (n) this.o.metrics.conversationsLoaded(this.convs.size);
    return n;
  }

  startSweeper(intervalMs = Math.max(1000, Math.min(this.o.evictIdleMs, 60_000))): void {
    this.sweepTimer = setInterval(() => {
      this.sweep();
      void this.expireIdempotency();
    }, intervalMs);
    this.sweepTimer.unref();
  }

  /** Idempotency records expire 24 h after their prompt's run ended (protocol.md). */
  expireIdempotency(now = Date.now()): Promise<number> {
    return this.o.store.expireIdempotency(now - IDEMPOTENCY_TTL_MS).catch(() => 0);
  }

  /** Shutdown: every active run ends `cancelled`/`shutdown`; everything is flushed. */
  async shutdown(closeCode: number): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const c of this.convs.values()) c.stopActive('shutdown');
    await this.o.committer.flush();
    for (const c of this.convs.values()) c.coordinator.closeAll(closeCode, 'server shutting down');
    this.waiting.closeAll(closeCode, 'server shutting down');
  }
}
