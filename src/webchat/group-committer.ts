import { emptyBatch, type CommitBatch, type Store } from './store/store';
import type { WebchatMetrics } from './webchat-metrics';

/** What the committer needs from a conversation log. */
export interface CommitParticipant {
  readonly convId: string;
  /** Adds the log's own rows (conversation head, projection) to the batch about to commit. */
  contribute(batch: CommitBatch, atMs: number): void;
  /** The batch committed: frames up to the last appended-before-commit seq are durable. */
  committed(upToSeq: number): void;
}

export interface GroupCommitterOptions {
  /** The shortest commit window (an idle server commits a lone frame this soon). */
  windowMs: number;
  /**
   * The longest window. Under load the window grows with the cost of a commit (twice its
   * recent average), so expensive commits batch more frames each and the store writes each
   * B-tree page fewer times; this caps the latency that adds (default 25 ms).
   */
  maxWindowMs?: number;
  /** Commit early when this many frames are pending. */
  maxFrames: number;
  metrics: WebchatMetrics;
  onHealth?(healthy: boolean, err?: unknown): void;
}

/**
 * Group commit (D2): frames of every conversation accumulate for `windowMs` and commit in one
 * transaction, with everything that must become durable with them — run and pause rows, queue
 * and idempotency records, projections, and the turn snapshots of runs (so a run's every store
 * write shares this discipline). Commits are serial, so seq order is commit order. A failed
 * commit is retried with backoff until it succeeds; meanwhile nothing new becomes visible, the
 * store reports unhealthy (`healthy`, /readyz) and new prompts are refused (503 not_ready).
 */
export class GroupCommitter {
  private pending: CommitBatch = emptyBatch();
  private pendingParticipants = new Map<CommitParticipant, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Moving average of a commit's duration (ms). */
  private commitCostMs = 0;
  private deferred = new Set<CommitParticipant>();
  /** Resolved when the batch being filled has committed (see `whenCommitted`). */
  private pendingWaiters: (() => void)[] = [];
  private deferTimer: NodeJS.Timeout | null = null;
  healthy = true;
  /** True while `flush()` runs: participants write everything they hold back (projection). */
  flushing = false;

  constructor(private readonly store: Store, private readonly opts: GroupCommitterOptions) {}

  /** The batch being filled; appenders push their rows into it synchronously. */
  get batch(): CommitBatch {
    return this.pending;
  }

  /**
   * Resolves once everything pushed into the current batch so far is committed (rows without a
   * frame of their own, e.g. turn snapshots). The caller must `note` or `touch` a participant
   * so the batch is scheduled.
   */
  whenCommitted(): Promise<void> {
    return new Promise((resolve) => this.pendingWaiters.push(resolve));
  }

  /** Registers that `p` appended up to `seq` into the pending batch. */
  note(p: CommitParticipant, seq: number): void {
    this.pendingParticipants.set(p, Math.max(seq, this.pendingParticipants.get(p) ?? 0));
    this.schedule();
  }

  /**
   * `p` held rows back (throttled): it gets another batch within `ms`, and one in every flush.
   * One timer for all deferred participants; a participant not due yet defers again.
   */
  defer(p: CommitParticipant, ms: number): void {
    this.deferred.add(p);
    if (this.deferTimer) return;
    this.deferTimer = setTimeout(() => {
      this.deferTimer = null;
      this.releaseDeferred();
    }, Math.max(1, ms));
    this.deferTimer.unref();
  }

  private releaseDeferred(): void {
    const ps = [...this.deferred];
    this.deferred.clear();
    for (const p of ps) this.touch(p);
  }

  /** A participant with no new frame but rows to write (e.g. projection). */
  touch(p: CommitParticipant): void {
    if (!this.pendingParticipants.has(p)) this.pendingParticipants.set(p, 0);
    this.schedule();
  }

  private schedule(): void {
    if (this.running) return;
    if (this.pending.frames.length >= this.opts.maxFrames) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.running = this.run();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.running) this.running = this.run();
    }, this.windowMs());
  }

  /** The current window: the configured minimum, stretched to twice the recent commit cost. */
  windowMs(): number {
    return Math.min(this.opts.maxWindowMs ?? 25, Math.max(this.opts.windowMs, Math.round(this.commitCostMs * 2)));
  }

  private async run(): Promise<void> {
    try {
      while (this.pendingParticipants.size > 0) {
        const batch = this.pending;
        const parts = this.pendingParticipants;
        const waiters = this.pendingWaiters;
        this.pending = emptyBatch();
        this.pendingParticipants = new Map();
        this.pendingWaiters = [];
        const now = Date.now();
        for (const p of parts.keys()) p.contribute(batch, now);
        await this.commitWithRetry(batch);
        for (const [p, seq] of parts) if (seq > 0) p.committed(seq);
        for (const w of waiters) w();
      }
    } finally {
      this.running = null;
      if (this.pendingParticipants.size > 0) this.schedule();
    }
  }

  private async commitWithRetry(batch: CommitBatch): Promise<void> {
    let delay = 50;
    for (;;) {
      const t0 = performance.now();
      try {
        await this.store.commit(batch);
        const dt = performance.now() - t0;
        this.commitCostMs = this.commitCostMs * 0.8 + dt * 0.2;
        this.opts.metrics.commitLatencyMs(dt, batch.frames.length);
        if (!this.healthy) {
          this.healthy = true;
          this.opts.onHealth?.(true);
        }
        return;
      } catch (err) {
        this.opts.metrics.commitFailed();
        if (this.healthy) {
          this.healthy = false;
        }
        this.opts.onHealth?.(false, err);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /** Resolves when everything appended so far is committed. */
  async flush(): Promise<void> {
    this.flushing = true;
    if (this.deferTimer) {
      clearTimeout(this.deferTimer);
      this.deferTimer = null;
    }
    this.releaseDeferred();
    try {
      for (let i = 0; i < 1000; i++) {
        if (this.timer) {
          clearTimeout(this.timer);
          this.timer = null;
        }
        if (this.running) await this.running;
        else if (this.pendingParticipants.size > 0) this.running = this.run();
        else return;
      }
    } finally {
      this.flushing = false;
    }
  }
}
