import { randomUUID } from 'node:crypto';
import { envelope, type ResyncReason } from '../protocol/frames';
import { PROTOCOL_VERSION } from '../protocol/ids';
import type { WsLike } from './chat-service';
import type { WebchatMetrics } from './webchat-metrics';

const OPEN = 1;

interface Waiting {
  /** The epoch the conversation will have: told in `ws.hello`, taken by its creation. */
  epoch: string;
  sockets: Set<WsLike>;
}

/**
 * Sockets of conversations that do not exist yet (protocol: such a socket is accepted and waits;
 * it creates nothing). A waiting socket costs one set entry, removed when it closes; no
 * Conversation is loaded for it, so a flood of sockets on fresh ids holds nothing once they
 * close. The first prompt creates the conversation with the epoch its waiting sockets were
 * told and takes them over (`take`): they are then live from seq 0 and miss nothing.
 */
export class WaitingSockets {
  private readonly byConv = new Map<string, Waiting>();

  constructor(private readonly metrics: WebchatMetrics) {}

  /** Conversations with waiting sockets (for tests and metrics). */
  get conversationCount(): number {
    return this.byConv.size;
  }

  epochOf(convId: string): string | null {
    return this.byConv.get(convId)?.epoch ?? null;
  }

  /**
   * Registers `ws` and sends what an empty conversation's socket gets: `ws.hello` (lastSeq 0),
   * then `ws.resync` when the client asked for frames after a seq the conversation cannot have.
   */
  add(convId: string, ws: WsLike, o: { since: number | null; epoch: string | null; runtimeKey: string }): void {
    if (ws.readyState !== OPEN) return; // closed while we looked the conversation up: its close event is gone
    let w = this.byConv.get(convId);
    if (!w) {
      w = { epoch: randomUUID(), sockets: new Set() };
      this.byConv.set(convId, w);
    }
    const entry = w;
    entry.sockets.add(ws);
    this.metrics.socketsChanged(1);
    ws.on('close', () => {
      if (!entry.sockets.delete(ws)) return; // taken over by the conversation (or already gone)
      this.metrics.socketsChanged(-1);
      if (entry.sockets.size === 0 && this.byConv.get(convId) === entry) this.byConv.delete(convId);
    });
    const now = Date.now();
    send(ws, envelope('ws.hello', `ws.hello:${convId}:${now}`, {
      convId, runtimeKey: o.runtimeKey, serverTime: now, lastSeq: 0, epoch: entry.epoch, protocolVersion: PROTOCOL_VERSION,
    }));
    if (o.since !== null && o.since > 0) {
      const reason: ResyncReason = o.epoch !== null && o.epoch !== entry.epoch ? 'epoch_changed' : 'since_ahead';
      send(ws, envelope('ws.resync', `ws.resync:${convId}:${now}`, { convId, lastSeq: 0, epoch: entry.epoch, reason }));
    }
  }

  /** The conversation is being created: its epoch and its still-open waiting sockets. */
  take(convId: string): { epoch: string; sockets: WsLike[] } | null {
    const w = this.byConv.get(convId);
    if (!w) return null;
    this.byConv.delete(convId);
    const sockets = [...w.sockets].filter((ws) => ws.readyState === OPEN);
    this.metrics.socketsChanged(-w.sockets.size);
    w.sockets.clear();
    return { epoch: w.epoch, sockets };
  }

  closeAll(code: number, reason: string): void {
    for (const [convId, w] of [...this.byConv]) {
      this.byConv.delete(convId);
      for (const ws of w.sockets) {
        try {
          ws.close(code, reason);
        } catch {
          ws.terminate();
        }
      }
      this.metrics.socketsChanged(-w.sockets.size);
      w.sockets.clear();
    }
  }
}

function send(ws: WsLike, frame: unknown): void {
  if (ws.readyState === OPEN) ws.send(JSON.stringify(frame), { binary: false });
}
