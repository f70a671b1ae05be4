/**
 * What every bench client checks on every frame it receives (performance.md: "a fast wrong
 * answer is not a result"): seq contiguous (no gap, no duplicate, no reordering), every
 * `llm.delta` at the offset the message has reached and equal to the produced text at that
 * offset, every `llm.final` equal to the concatenated deltas (and to the produced text), the
 * expected number of runs ending `completed`.
 */

/** What the stream of a run is expected to contain. */
export type Expect =
  | { kind: 'words'; words: number } // demo `/stream N`: text w1 … wN
  | { kind: 'stamps'; count: number } // bench `/stamp N MS`: N deltas `t<ms>` (latency probes); with --coalesce-ms a frame carries several
  | { kind: 'any' }; // soak: only the structural checks

/** The text `/stream N` produces (same as src/providers/demo/demo-script.ts `streamText`). */
export function wordsText(n: number): string {
  const parts: string[] = new Array(n);
  for (let i = 0; i < n; i++) parts[i] = (i === 0 ? 'w' : ' w') + (i + 1);
  return parts.join('');
}

const textCache = new Map<number, string>();
export function expectedText(e: Expect): string | null {
  if (e.kind !== 'words') return null;
  let t = textCache.get(e.words);
  if (t === undefined) {
    t = wordsText(e.words);
    textCache.set(e.words, t);
  }
  return t;
}

interface MsgState {
  /** Offset of the first delta this socket saw (0 when it saw `llm.start`). */
  base: number;
  text: string;
  sawStart: boolean;
  deltas: number;
}

export interface VerifierOptions {
  /** Frames before this seq were not asked for (`since`); live sockets start at `ws.hello.lastSeq`. */
  since: number | null;
  expect: Expect;
  /** Record `now - stamp` of every stamped delta (ms). */
  latency?: boolean;
  /** Allowed run.end statuses (default: completed only). */
  allowStatuses?: readonly string[];
  /** Accept `ws.resync` (soak only: never expected in the frame-rate scenarios). */
  allowResync?: boolean;
}

export const now = (): number => performance.timeOrigin + performance.now();

/** Verifies the frames of one socket. Throws (with a precise message) at the first violation. */
export class StreamVerifier {
  lastSeq = -1;
  helloLastSeq = -1;
  epoch = '';
  frames = 0;
  deltaChars = 0;
  /** Bytes of the llm.delta envelopes as received (WebSocket payloads). */
  deltaBytes = 0;
  deltas = 0;
  runStarts = 0;
  runEnds = 0;
  completedRuns = 0;
  firstRecv = 0;
  lastRecv = 0;
  latencies: number[] = [];
  /** Deltas of the last finished message (-1: its start was not seen). */
  private lastFinal = -1;
  /** Frame receipt counts per 10 ms bin (absolute time / 10), for steady-state windows. */
  bins: Map<number, number> | null = null;
  private readonly msgs = new Map<string, MsgState>();
  private readonly expected: string | null;

  constructor(readonly label: string, private readonly o: VerifierOptions) {
    this.expected = expectedText(o.expect);
  }

  private fail(msg: string): never {
    throw new Error(`${this.label}: ${msg}`);
  }

  /** One text message from the socket. */
  onMessage(raw: string, t: number): void {
    let f: { sem?: unknown; event?: Record<string, any> };
    try {
      f = JSON.parse(raw);
    } catch {
      this.fail(`not JSON: ${raw.slice(0, 80)}`);
    }
    const ev = f.event;
    if (f.sem !== true || !ev || typeof ev.type !== 'string') this.fail(`not a SEM frame: ${raw.slice(0, 120)}`);
    const type = ev.type as string;
    if (type === 'ws.hello') {
      this.helloLastSeq = ev.data.lastSeq;
      this.epoch = ev.data.epoch;
      if (this.lastSeq < 0) this.lastSeq = this.o.since ?? ev.data.lastSeq;
      return;
    }
    if (type === 'ws.pong') return;
    if (type === 'ws.resync') {
      if (!this.o.allowResync) this.fail(`unexpected ws.resync (${ev.data.reason})`);
      this.lastSeq = ev.data.lastSeq;
      this.epoch = ev.data.epoch;
      return;
    }
    if (this.lastSeq < 0) this.fail(`frame ${type} before ws.hello`);
    const seq = ev.seq;
    if (seq !== this.lastSeq + 1) {
      this.fail(seq <= this.lastSeq ? `duplicate/reordered seq ${seq} after ${this.lastSeq} (${type})` : `gap: seq ${seq} after ${this.lastSeq} (${seq - this.lastSeq - 1} missing, ${type})`);
    }
    this.lastSeq = seq;
    this.frames++;
    if (this.firstRecv === 0) this.firstRecv = t;
    this.lastRecv = t;
    if (this.bins) {
      const b = Math.floor(t / 10);
      this.bins.set(b, (this.bins.get(b) ?? 0) + 1);
    }
    switch (type) {
      case 'llm.start':
        this.msgs.set(ev.data.id, { base: 0, text: '', sawStart: true, deltas: 0 });
        break;
      case 'llm.delta': {
        const d = ev.data as { id: string; delta: string; offset: number };
        let m = this.msgs.get(d.id);
        if (!m) {
          m = { base: d.offset, text: '', sawStart: false, deltas: 0 };
          this.msgs.set(d.id, m);
        }
        if (d.offset !== m.base + m.text.length) this.fail(`delta offset ${d.offset}, expected ${m.base + m.text.length} (seq ${seq})`);
        if (this.expected !== null && !this.expected.startsWith(d.delta, d.offset)) this.fail(`delta ${JSON.stringify(d.delta)} at ${d.offset} differs from the produced text (seq ${seq})`);
        let units = 1;
        if (this.o.expect.kind === 'stamps') {
          // one stamp per produced delta; a coalesced frame carries several, each measured
          if (!/^( ?t\d+\.\d{3})+$/.test(d.delta)) this.fail(`not a stamp: ${JSON.stringify(d.delta)}`);
          const stamps = [...d.delta.matchAll(/t(\d+\.\d{3})/g)].map((x) => Number(x[1]));
          units = stamps.length;
          if (this.o.latency) for (const s of stamps) this.latencies.push(t - s);
        }
        m.text += d.delta;
        m.deltas += units;
        this.deltaBytes += Buffer.byteLength(raw);
        this.deltas++;
        this.deltaChars += d.delta.length;
        break;
      }
      case 'llm.final': {
        const d = ev.data as { id: string; text: string };
        const m = this.msgs.get(d.id);
        if (m) {
          const ok = m.sawStart ? d.text === m.text : d.text.length === m.base + m.text.length && d.text.endsWith(m.text);
          if (!ok) this.fail(`llm.final text (${d.text.length} chars) is not the concatenated deltas (${m.base}+${m.text.length} chars)`);
          if (this.expected !== null && d.text !== this.expected) this.fail(`llm.final text differs from the produced text`);
          this.lastFinal = m.sawStart ? m.deltas : -1;
          this.msgs.delete(d.id);
        }
        break;
      }
      case 'run.start':
        this.runStarts++;
        break;
      case 'run.end': {
        this.runEnds++;
        const st = ev.data.status as string;
        if (st === 'completed') {
          this.completedRuns++;
          // a completed run produced exactly what was asked (a cancelled one stops early)
          const want = this.o.expect.kind === 'stamps' ? this.o.expect.count : this.o.expect.kind === 'words' ? this.o.expect.words : -1;
          if (want >= 0 && this.lastFinal >= 0 && this.lastFinal !== want) this.fail(`run completed with ${this.lastFinal} deltas, expected ${want}`);
        }
        else if (!(this.o.allowStatuses ?? ['completed']).includes(st)) this.fail(`run ended ${st} (${ev.data.reason}): ${JSON.stringify(ev.data.error)}`);
        break;
      }
      default:
        break;
    }
  }

  /** Messages still open (a final never arrived). */
  get openMessages(): number {
    return this.msgs.size;
  }
}
