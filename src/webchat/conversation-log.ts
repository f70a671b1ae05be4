import type { AnyFrameEvent } from '../protocol/frames';
import type { GroupCommitter, CommitParticipant } from './group-committer';
import type { CommitBatch, ConversationRow, PauseRow, RunRow, Store } from './store/store';
import { DeltaCoalescer } from './delta-coalescer';
import { TimelineProjection } from './timeline-projection';
import type { AnyFrameSpec } from './translator';
import type { WebchatMetrics } from './webchat-metrics';

/** A committed frame as delivered: the exact envelope JSON (and its bytes, encoded once). */
export interface LogEntry {
  seq: number;
  json: string;
  buf: Buffer;
}

interface PendingEntry extends LogEntry {
  event: AnyFrameEvent;
  createdAtMs: number;
}

/** Longest a conversation's head row waits for its write (see `contribute`). */
const HEAD_PERSIST_MS = 2000;
/** Longest its projection waits (see `contribute`): the log replays whatever it lags. */
const PROJECTION_PERSIST_MS = 5000;
/** Frames whose commit also writes the conversation's head row (run boundaries). */
const HEAD_NOW = new Set<string>(['run.queued', 'chat.message', 'run.start', 'run.end']);

export type LogListener = (entries: readonly LogEntry[]) => void;

export interface ConversationLogOptions {
  convId: string;
  epoch: string;
  lastSeq: number;
  store: Store;
  committer: GroupCommitter;
  metrics: WebchatMetrics;
  projection: TimelineProjection;
  /** Open runs / pauses loaded from the store (their CAS state). */
  openRuns: RunRow[];
  openPauses: PauseRow[];
  /** Known closed runs (recent), so their late frames are fenced and cancel can answer. */
  closedRuns: RunRow[];
  /** The conversation row to create on first commit, and its current head fields. */
  row: () => ConversationRow;
  hotWindow?: number;
  /** Delta coalescing window in ms (0 or absent: off), see `DeltaCoalescer`. */
  coalesceMs?: number;
  /** Time of the last frame of a loaded conversation (default: now, a new conversation). */
  lastActivityMs?: number;
}

/**
 * The per-conversation log (D1, D2): `append` assigns the next seq synchronously and applies the
 * run/pause compare-and-set (a second terminal, or any frame of a closed run, is dropped); the
 * group committer makes it durable; only then is it visible — to listeners (sockets), readers
 * and the projection, in seq order.
 */
export class ConversationLog implements CommitParticipant {
  readonly convId: string;
  epoch: string;
  private lastAssigned: number;
  private committedSeq: number;
  private readonly runs = new Map<string, RunRow>();
  private readonly pauses = new Map<string, PauseRow>();
  private pending: PendingEntry[] = [];
  private hot: LogEntry[] = [];
  private readonly hotMax: number;
  private readonly listeners = new Set<LogListener>();
  private waiters: { seq: number; resolve: () => void }[] = [];
  /** When the head row was last written (0: never, the next batch creates the row). */
  private headWrittenAtMs = 0;
  private writtenFields = '';
  /** seq and activity time the written head row holds. */
  private writtenHead = '';
  /** When the projection was last written. */
  private projectionWrittenAtMs = 0;
  /** Rows held back for a later batch (see `contribute`). */
  private rowsHeld = false;
  /** A run boundary was appended: the next batch writes the head row whatever its age. */
  private headDue = false;
  readonly projection: TimelineProjection;
  /** Time of the last frame appended (or of creation): `last_activity_ms`. */
  lastActivityMs: number;

  constructor(private readonly o: ConversationLogOptions) {
    this.convId = o.convId;
    this.epoch = o.epoch;
    this.lastAssigned = o.lastSeq;
    this.committedSeq = o.lastSeq;
    this.projection = o.projection;
    this.hotMax = o.hotWindow ?? 20_000;
    this.lastActivityMs = o.lastActivityMs ?? Date.now();
    for (const r of o.openRuns) this.runs.set(r.inferenceId, r);
    for (const r of o.closedRuns) if (!this.runs.has(r.inferenceId)) this.runs.set(r.inferenceId, r);
    for (const p of o.openPauses) this.pauses.set(p.pauseId, p);
    if (o.coalesceMs && o.coalesceMs > 0) {
      this.coalescer = new DeltaCoalescer(o.coalesceMs, () => {
        const held = this.coalescer?.release();
        if (held) this.appendNow(held);
      });
    }
  }
  private readonly coalescer: DeltaCoalescer | null = null;

  get lastSeq(): number {
    return this.committedSeq;
  }
  /** Highest seq assigned (committed or not). */
  get headSeq(): number {
    return this.lastAssigned;
  }
  get batch(): CommitBatch {
    return this.o.committer.batch;
  }
  runState(inferenceId: string): RunRow | undefined {
    return this.runs.get(inferenceId);
  }
  isPauseOpen(pauseId: string): boolean {
    const p = this.pauses.get(pauseId);
    return !!p && p.resolution === null;
  }

  /**
   * Appends a frame; returns its seq, or null when the compare-and-set dropped it (a frame of a
   * closed or unknown run, a second run.end, a second resolution of a pause) or when delta
   * coalescing holds it (a text delta merged into the next frame of its message). A held delta
   * is always appended before any later frame of the conversation.
   */
  append(spec: AnyFrameSpec): number | null {
    if (this.sealed) return null;
    const c = this.coalescer;
    if (c) {
      const now = Date.now();
      if (c.offer(spec, now)) return null;
      const held = c.release();
      if (held) this.appendNow(held);
      if (c.offer(spec, now)) return null;
    }
    return this.appendNow(spec);
  }

  private appendNow(spec: AnyFrameSpec): number | null {
    if (this.sealed) return null;
    const now = Date.now();
    let runRow: RunRow | null = null;
    if (spec.type === 'run.start') {
      if (this.runs.has(spec.data.inferenceId)) return null;
      runRow = { convId: this.convId, inferenceId: spec.data.inferenceId, turnId: spec.data.turnId, status: 'open', reason: null, startedAtMs: now, endedAtMs: null, endSeq: null };
    } else if (spec.inferenceId) {
      const r = this.runs.get(spec.inferenceId);
      if (!r || r.status !== 'open') return null; // fenced
      if (spec.type === 'run.end') runRow = { ...r, status: spec.data.status, reason: spec.data.reason, endedAtMs: now };
    }
    let pauseRow: PauseRow | null = null;
    if (spec.type === 'debugger.pause') {
      if (this.pauses.has(spec.data.pauseId)) return null;
      pauseRow = {
        convId: this.convId, pauseId: spec.data.pauseId, inferenceId: spec.inferenceId ?? '', phase: spec.data.phase, summary: spec.data.summary,
        deadlineMs: spec.data.deadlineMs, toolCallIds: spec.data.extra.pendingTools.map((t) => t.id), resolution: null,
      };
    } else if (spec.type === 'debugger.resume') {
      const open = this.pauses.get(spec.data.pauseId);
      if (!open || open.resolution !== null) return null;
      pauseRow = { ...open, resolution: spec.data.resolution };
    }
    const seq = ++this.lastAssigned;
    const event = { type: spec.type, id: spec.id, seq, stream_id: null, data: spec.data, metadata: spec.metadata } as AnyFrameEvent;
    const json = JSON.stringify({ sem: true, event });
    const entry: PendingEntry = { seq, json, buf: Buffer.from(json), event, createdAtMs: now };
    this.pending.push(entry);
    const batch = this.o.committer.batch;
    batch.frames.push({ convId: this.convId, seq, epoch: this.epoch, type: spec.type, entityId: spec.id, json, createdAtMs: now });
    if (runRow) {
      if (spec.type === 'run.end') runRow.endSeq = seq;
      this.runs.set(runRow.inferenceId, runRow);
      batch.runs.push(runRow);
    }
    if (pauseRow) {
      this.pauses.set(pauseRow.pauseId, pauseRow);
      batch.pauses.push(pauseRow);
    }
    this.lastActivityMs = now;
    if (HEAD_NOW.has(spec.type)) this.headDue = true;
    this.o.metrics.framesAppended(1, entry.buf.length);
    this.o.committer.note(this, seq);
    return seq;
  }

  contribute(batch: CommitBatch, atMs: number): void {
    const row = this.o.row();
    const fields = `${row.title}\u0000${row.stepMode}\u0000${row.busyPolicy}\u0000${row.runtimeKey}`;
    const head = { lastSeq: this.lastAssigned, lastActivityMs: this.lastActivityMs };
    const headKey = `${head.lastSeq}:${head.lastActivityMs}`;
    // While the conversation is busy, its head row (lastSeq, lastActivityMs) is written at most
    // every HEAD_PERSIST_MS and its projection at most every PROJECTION_PERSIST_MS; what is
    // held back is written by a later batch (`defer`), and always on flush. Rewriting both in
    // every group commit made a long stream quadratic (a streaming message's entity holds its
    // whole text) and made 1000 concurrent conversations write 1000 rows per commit: with the
    // log an append, the projection's rewrites were most of the bytes the store wrote (bench:
    // concurrent). The first batch always creates the row, and a changed title / step mode /
    // policy / runtime is written at once. The persisted projection cursor may lag the log:
    // loading replays the log from that cursor, so the timeline stays exact (the head's
    // lastSeq is read from the log).
    const flushing = this.o.committer.flushing;
    const first = this.headWrittenAtMs === 0;
    // run boundaries (a prompt accepted or started, a run ended) write the head at once, so the
    // conversation list is current whenever nothing streams; only a stream's deltas wait
    if (flushing || first || this.headDue || fields !== this.writtenFields || (headKey !== this.writtenHead && atMs - this.headWrittenAtMs >= HEAD_PERSIST_MS)) {
      this.headDue = false;
      this.headWrittenAtMs = atMs;
      this.writtenFields = fields;
      this.writtenHead = headKey;
      batch.conversations.push({
        convId: this.convId,
        create: { ...row, ...head, epoch: this.epoch },
        update: { ...head, title: row.title, stepMode: row.stepMode, busyPolicy: row.busyPolicy, runtimeKey: row.runtimeKey },
      });
    }
    if (flushing || first || atMs - this.projectionWrittenAtMs >= PROJECTION_PERSIST_MS) {
      const p = this.projection.takeDirty(atMs);
      if (p) {
        batch.projections.push({ convId: this.convId, ...p });
        this.projectionWrittenAtMs = atMs;
      }
    }
    this.holdRows(atMs);
  }

  /** Defers this log to the batch in which its held-back rows fall due (if any are held). */
  private holdRows(atMs: number): void {
    let dueMs = Infinity;
    if (`${this.lastAssigned}:${this.lastActivityMs}` !== this.writtenHead) dueMs = this.headWrittenAtMs + HEAD_PERSIST_MS - atMs;
    if (this.projection.hasDirty) dueMs = Math.min(dueMs, this.projectionWrittenAtMs + PROJECTION_PERSIST_MS - atMs);
    this.rowsHeld = dueMs !== Infinity;
    if (this.rowsHeld) this.o.committer.defer(this, Math.max(1, dueMs));
  }

  committed(upToSeq: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.seq <= upToSeq) n++;
    if (n === 0) return;
    const done = this.pending.slice(0, n);
    this.pending = this.pending.slice(n);
    this.committedSeq = done[done.length - 1]!.seq;
    for (const e of done) this.projection.apply(e.event, e.createdAtMs);
    const entries: LogEntry[] = done.map((e) => ({ seq: e.seq, json: e.json, buf: e.buf }));
    for (const e of entries) this.hot.push(e);
    if (this.hot.length > this.hotMax * 1.25) this.hot = this.hot.slice(this.hot.length - this.hotMax);
    for (const l of this.listeners) {
      try {
        l(entries);
      } catch {
        /* a listener's failure must not stop delivery to others */
      }
    }
    if (this.waiters.length) {
      const still: typeof this.waiters = [];
      for (const w of this.waiters) (w.seq <= this.committedSeq ? w.resolve() : still.push(w));
      this.waiters = still;
    }
    // the projection advanced: persist it with a later batch (within this flush, if one runs:
    // nothing may be left for a timer once the store is closed)
    if (this.o.committer.flushing) this.o.committer.touch(this);
    else this.holdRows(Date.now());
  }

  /** Resolves once `seq` is committed (durable and visible). */
  waitCommitted(seq: number): Promise<void> {
    if (seq <= this.committedSeq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  subscribe(l: LogListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Committed frames with seq > since, ascending, at most `limit` (hot window, else the store). */
  async read(since: number, limit: number): Promise<LogEntry[]> {
    const upTo = this.committedSeq;
    if (since >= upTo) return [];
    const first = this.hot[0];
    if (first && first.seq <= since + 1) {
      const start = since + 1 - first.seq;
      return this.hot.slice(start, start + limit).filter((e) => e.seq <= upTo);
    }
    const rows = await this.o.store.readFrames(this.convId, since, limit);
    return rows.filter((r) => r.seq <= upTo).map((r) => ({ seq: r.seq, json: r.json, buf: Buffer.from(r.json) }));
  }

  private sealed = false;
  /** After delete: nothing is ever appended again. */
  seal(): void {
    this.coalescer?.release();
    this.sealed = true;
  }

  /** Runs of this conversation known in memory (open and recently closed). */
  knownRuns(): RunRow[] {
    return [...this.runs.values()];
  }

  /** True when nothing is waiting to be committed (frames, held-back rows, a held delta). */
  get idle(): boolean {
    return this.pending.length === 0 && !this.rowsHeld && !this.coalescer?.holding;
  }
}
