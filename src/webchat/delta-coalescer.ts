import type { AnyFrameSpec, FrameSpec } from './translator';

type DeltaSpec = FrameSpec<'llm.delta'> | FrameSpec<'llm.thinking.delta'>;

const isDelta = (s: AnyFrameSpec): s is DeltaSpec => s.type === 'llm.delta' || s.type === 'llm.thinking.delta';

/**
 * Delta coalescing (a deployment option, `--coalesce-ms N`; 0 = off): consecutive text deltas
 * of one message produced within `windowMs` of the first one become ONE `llm.delta` (or
 * `llm.thinking.delta`) frame. The merged frame keeps the first delta's `offset` and carries the
 * concatenated text, so offsets stay exact and the final text is identical; only the number of
 * frames (and log rows, and socket writes) goes down.
 *
 * The coalescer sits in front of the log's append: `offer` either absorbs a delta (holding it)
 * or says the frame must be appended now — after `release()` hands back whatever was held, so
 * the held delta always lands before any later frame of the conversation (order is kept). A
 * held delta is released when the window closes (`onDue`), by the next non-mergeable frame, or
 * by `release()` (run end, cancel, shutdown).
 */
export class DeltaCoalescer {
  private held: DeltaSpec | null = null;
  private heldAtMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly windowMs: number,
    /** Called when the window of a held delta closes; it should append `release()`'s result. */
    private readonly onDue: () => void,
  ) {}

  get holding(): boolean {
    return this.held !== null;
  }

  /**
   * True when `spec` was absorbed (merged into the held delta, or held as a new one after the
   * caller released the previous). False: the caller appends `spec` now, after `release()`.
   */
  offer(spec: AnyFrameSpec, nowMs: number): boolean {
    if (!isDelta(spec)) return false;
    const h = this.held;
    if (h && h.type === spec.type && h.id === spec.id && h.inferenceId === spec.inferenceId
      && h.data.offset + h.data.delta.length === spec.data.offset && nowMs - this.heldAtMs < this.windowMs) {
      h.data = { ...h.data, delta: h.data.delta + spec.data.delta };
      return true;
    }
    if (h) return false; // not mergeable: the caller releases the held one, then offers again
    this.held = { ...spec, data: { ...spec.data } } as DeltaSpec;
    this.heldAtMs = nowMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue();
    }, this.windowMs);
    this.timer.unref();
    return true;
  }

  /** The held delta (now owned by the caller), or null. */
  release(): DeltaSpec | null {
    const h = this.held;
    this.held = null;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return h;
  }
}
