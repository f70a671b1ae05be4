import type { WsLike } from '../chat-service';

/** An in-memory socket for runtime tests: records every frame sent to it. */
export class FakeSocket implements WsLike {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closeCode: number | null = null;
  private closeFns: (() => void)[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  send(data: string | Buffer, _opts: { binary?: boolean }, cb?: (err?: Error) => void): void {
    this.sent.push(typeof data === 'string' ? data : data.toString('utf8'));
    cb?.();
    this.check();
  }
  close(code?: number): void {
    if (this.readyState === 3) return;
    this.closeCode = code ?? 1000;
    this.readyState = 3;
    for (const f of this.closeFns) f();
    this.check();
  }
  terminate(): void {
    this.close(1006);
  }
  on(_event: 'close', fn: () => void): void {
    this.closeFns.push(fn);
  }
  /** Parsed envelopes' events. */
  events(): { type: string; id: string; seq: number | null; data: any }[] {
    return this.sent.map((s) => JSON.parse(s).event);
  }
  logFrames() {
    return this.events().filter((e) => e.seq !== null);
  }
  private check(): void {
    this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
  }
  waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting; got ${this.sent.length} frames: ${this.events().map((e) => e.type).slice(-10).join(',')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }
  /** Waits until `n` run.end frames arrived. */
  waitRunEnds(n: number): Promise<void> {
    return this.waitFor(() => this.events().filter((e) => e.type === 'run.end').length >= n);
  }
}
