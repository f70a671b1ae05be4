/**
 * Load generator of `soak` (a child process of bench/run.ts): `actors` simulated users for
 * `seconds`, each with one verified socket, doing a seeded random mix — prompts of every demo
 * kind, cancels mid-stream, reconnects with `since`, step mode with pauses resolved over HTTP,
 * and a new conversation every few prompts (old ones go idle and are evicted). Every frame is
 * verified across reconnects (no gap, no duplicate, finals equal their deltas); at the end every
 * run has ended and each conversation's last seq equals what its socket saw.
 */
import WebSocket from 'ws';
import { now, StreamVerifier } from './lib/verify';

export interface SoakStart {
  type: 'start';
  http: string;
  ws: string;
  actors: number;
  seconds: number;
  seed: number;
}
export interface SoakReport {
  prompts: number;
  cancels: number;
  reconnects: number;
  pauses: number;
  conversations: number;
  frames: number;
  runs: number;
}

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const PROMPTS = ['/stream 120 3', 'What is (4*5)-1?', '/tools 3', '/think', 'hello from the soak', '/error provider_rate_limited', '/stream 40 10'];

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

class Actor {
  private ws: WebSocket | null = null;
  private v!: StreamVerifier;
  private convId = '';
  private waiters: { cond: () => boolean; resolve: () => void }[] = [];
  private failure: Error | null = null;
  private pausesSeen = new Set<string>();
  stats = { prompts: 0, cancels: 0, reconnects: 0, pauses: 0, conversations: 0, frames: 0, runs: 0 };

  constructor(private readonly id: number, private readonly o: SoakStart, private readonly rnd: () => number) {}

  private check(): void {
    if (this.failure) throw this.failure;
    this.waiters = this.waiters.filter((w) => (w.cond() ? (w.resolve(), false) : true));
  }

  private until(cond: () => boolean, ms: number, what: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.convId}: timed out waiting for ${what} (last seq ${this.v.lastSeq})`)), ms);
      this.waiters.push({ cond, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  private connect(since: number | null): Promise<void> {
    const qs = `conv_id=${this.convId}${since !== null ? `&since=${since}&epoch=${encodeURIComponent(this.v.epoch)}` : ''}`;
    const ws = new WebSocket(`${this.o.ws}?${qs}`, { perMessageDeflate: false });
    this.ws = ws;
    let hello = false;
    return new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        try {
          const text = data.toString();
          this.v.onMessage(text, now());
          if (!hello && this.v.helloLastSeq >= 0) {
            hello = true;
            resolve();
          }
          if (text.includes('"debugger.pause"')) void this.resolvePause(JSON.parse(text).event.data.pauseId as string);
          this.check();
        } catch (err) {
          this.failure = err as Error;
          reject(err);
        }
      });
      ws.on('error', (err) => reject(err));
      ws.on('close', (code) => {
        if (this.ws === ws && code !== 1000) this.failure ??= new Error(`${this.convId}: socket closed ${code}`);
      });
    });
  }

  private async resolvePause(pauseId: string): Promise<void> {
    if (this.pausesSeen.has(pauseId)) return;
    this.pausesSeen.add(pauseId);
    await sleep(20);
    const r = await http('POST', `${this.o.http}/api/conversations/${this.convId}/pauses/${pauseId}`, { action: 'continue' });
    if (r.status === 200) this.stats.pauses++;
  }

  private async newConversation(gen: number): Promise<void> {
    await this.close();
    this.convId = `soak-${this.id}-${gen}-${Math.floor(this.rnd() * 1e9).toString(36)}`;
    this.v = new StreamVerifier(`soak ${this.convId}`, { since: null, expect: { kind: 'any' }, allowStatuses: ['completed', 'cancelled', 'error'], allowResync: false });
    this.pausesSeen.clear();
    await this.connect(null);
    this.stats.conversations++;
  }

  private async close(): Promise<void> {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.stats.frames += this.v?.frames ?? 0;
    await new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.close(1000);
    });
  }

  /** Ends the conversation: every run ended, and the server's last seq is what the socket saw. */
  private async settle(): Promise<void> {
    await this.until(() => this.v.runStarts === this.v.runEnds, 15_000, 'every run to end');
    const st = await http('GET', `${this.o.http}/api/conversations/${this.convId}`);
    if (st.status === 404 && this.v.lastSeq === 0) return; // nothing was ever written to it
    if (st.status !== 200) throw new Error(`${this.convId}: GET answered ${st.status}`);
    await this.until(() => this.v.lastSeq === st.json.last_seq, 5000, `seq ${st.json.last_seq} (lost frames)`);
    if (this.v.openMessages !== 0) throw new Error(`${this.convId}: ${this.v.openMessages} messages without llm.final`);
    this.stats.runs += this.v.runEnds;
  }

  async run(deadline: number): Promise<void> {
    let gen = 0;
    await this.newConversation(gen);
    let promptsHere = 0;
    let step = false;
    while (Date.now() < deadline) {
      const x = this.rnd();
      if (promptsHere >= 6) {
        await this.settle();
        await this.newConversation(++gen);
        promptsHere = 0;
        step = false;
      } else if (x < 0.5 || x >= 0.9) {
        // a prompt, waited to its end (or cancelled mid-way)
        const cancel = x >= 0.9;
        const ends = this.v.runEnds;
        const prompt = cancel ? '/stream 400 5' : PROMPTS[Math.floor(this.rnd() * PROMPTS.length)]!;
        const r = await http('POST', `${this.o.http}/chat`, { conv_id: this.convId, prompt });
        if (r.status !== 200 && r.status !== 202) throw new Error(`${this.convId}: POST /chat answered ${r.status} ${JSON.stringify(r.json)}`);
        this.stats.prompts++;
        promptsHere++;
        if (cancel) {
          await sleep(30 + this.rnd() * 120);
          const c = await http('POST', `${this.o.http}/api/conversations/${this.convId}/cancel`, {});
          if (c.status !== 200) throw new Error(`${this.convId}: cancel answered ${c.status}`);
          this.stats.cancels++;
        }
        await this.until(() => this.v.runEnds > ends, 20_000, 'run.end');
      } else if (x < 0.7) {
        // reconnect with since (exact resume): the old socket delivers until it is closed, so
        // the cursor is read once it is
        await this.close();
        await this.connect(this.v.lastSeq);
        this.stats.reconnects++;
      } else if (x < 0.8) {
        step = !step;
        const r = await http('PUT', `${this.o.http}/api/conversations/${this.convId}/step-mode`, { enabled: step });
        if (r.status !== 200) throw new Error(`${this.convId}: step-mode answered ${r.status}`);
        if (step) {
          const ends = this.v.runEnds;
          const p = await http('POST', `${this.o.http}/chat`, { conv_id: this.convId, prompt: '/tools 2' });
          if (p.status !== 200) throw new Error(`${this.convId}: POST /chat (step) answered ${p.status}`);
          this.stats.prompts++;
          promptsHere++;
          await this.until(() => this.v.runEnds > ends, 20_000, 'run.end (step mode)');
        }
      } else {
        await sleep(100 + this.rnd() * 300);
      }
    }
    await this.settle();
    await this.close();
  }
}

process.on('message', (m: SoakStart | { type: 'exit' }) => {
  if (m.type === 'exit') process.exit(0);
  const deadline = Date.now() + m.seconds * 1000;
  const actors = Array.from({ length: m.actors }, (_, i) => new Actor(i, m, rng(m.seed * 1000 + i)));
  Promise.all(actors.map((a) => a.run(deadline))).then(
    () => {
      const report: SoakReport = { prompts: 0, cancels: 0, reconnects: 0, pauses: 0, conversations: 0, frames: 0, runs: 0 };
      for (const a of actors) for (const k of Object.keys(report) as (keyof SoakReport)[]) report[k] += a.stats[k];
      process.send!({ type: 'done', report });
    },
    (err: unknown) => process.send!({ type: 'error', error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
