import { CLOSE_CODES } from '../protocol/errors';
import type { WsLike } from './chat-service';
import type { LogEntry } from './conversation-log';
import type { WebchatMetrics } from './webchat-metrics';

const OPEN = 1;
/** Replay pauses when this much is buffered for the socket, until the kernel takes it. */
const REPLAY_HIGH_WATER = 1 << 20;
/** Broadcast flushes a corked socket once this much is waiting (see `broadcast`). */
const CORK_FLUSH_BYTES = 64 * 1024;

/** The TCP socket under a `ws` WebSocket (for cork/uncork), or null for other WsLike objects. */
function tcpOf(ws: WsLike): { cork(): void; uncork(): void; readonly writableLength: number } | null {
  const s = (ws as { _socket?: { cork?: unknown; uncork?: unknown; writableLength?: unknown } })._socket;
  return s && typeof s.cork === 'function' && typeof s.uncork === 'function' && typeof s.writableLength === 'number'
    ? (s as { cork(): void; uncork(): void; readonly writableLength: number })
    : null;
}

/** One client socket of a conversation. */
export class SocketConn {
  lastSentSeq = 0;
  mode: 'replay' | 'live' = 'replay';
  closed = false;

  constructor(readonly ws: WsLike, private readonly sendLimitBytes: number, private readonly metrics: WebchatMetrics) {
    ws.on('close', () => (this.closed = true));
  }

  get sendLimit(): number {
    return this.sendLimitBytes;
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === OPEN;
  }

  /** Control frames (hello, pong, resync) go to this socket only. */
  sendControl(json: string): void {
    if (this.isOpen) this.ws.send(json, { binary: false });
  }

  /** Live delivery: never waits; over the byte bound the socket is closed 1013 (D15). */
  sendLive(e: LogEntry): void {
    if (!this.isOpen || e.seq <= this.lastSentSeq) return;
    // An empty buffer always takes the next frame (one frame larger than the limit must not
    // close an idle socket); beyond that the bound holds.
    if (this.ws.bufferedAmount > 0 && this.ws.bufferedAmount + e.buf.length > this.sendLimitBytes) {
      this.close(CLOSE_CODES.overflow, 'send buffer over its limit: reconnect with since');
      this.metrics.socketDropped('overflow');
      return;
    }
    this.ws.send(e.buf, { binary: false });
    this.lastSentSeq = e.seq;
    this.metrics.framesSent(1);
  }

  /** Replay at the socket's pace: waits for the kernel to take data when too much is buffered. */
  async sendPaced(entries: readonly LogEntry[]): Promise<void> {
    let sent = 0;
    for (const e of entries) {
      if (!this.isOpen) return;
      if (e.seq <= this.lastSentSeq) continue;
      // never leave more than half the live limit buffered: else the first live frame after the
      // switch would close a socket that reads at full speed (1013 loop)
      if (this.ws.bufferedAmount > Math.min(REPLAY_HIGH_WATER, this.sendLimitBytes / 2)) {
        await new Promise<void>((resolve) => this.ws.send(e.buf, { binary: false }, () => resolve()));
      } else {
        this.ws.send(e.buf, { binary: false });
      }
      this.lastSentSeq = e.seq;
      sent++;
    }
    this.metrics.framesSent(sent);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }
}

/**
 * The sockets of one conversation. Broadcast never blocks: each socket has its own byte bound
 * and is closed 1013 when it is over it; the producer and the other sockets never wait.
 */
export class ConnectionPool {
  private readonly conns = new Set<SocketConn>();

  constructor(private readonly metrics: WebchatMetrics) {}

  add(c: SocketConn): void {
    this.conns.add(c);
    this.metrics.socketsChanged(1);
    c.ws.on('close', () => this.remove(c));
  }

  remove(c: SocketConn): void {
    if (this.conns.delete(c)) this.metrics.socketsChanged(-1);
  }

  get size(): number {
    return this.conns.size;
  }

  /**
   * Live frames to every socket in live mode (replaying sockets read them from the log). The
   * frames of one commit leave a socket in few writev calls, not one syscall each (bench:
   * fanout profile): the TCP socket is corked and flushed every CORK_FLUSH_BYTES (at most a
   * quarter of the socket's bound, so corking never trips the 1013 bound by itself).
   */
  broadcast(entries: readonly LogEntry[]): void {
    for (const c of this.conns) {
      if (c.mode !== 'live') continue;
      const sock = entries.length > 1 ? tcpOf(c.ws) : null;
      if (!sock) {
        for (const e of entries) {
          c.sendLive(e);
          if (c.closed) break;
        }
        continue;
      }
      const flushAt = Math.min(CORK_FLUSH_BYTES, c.sendLimit / 4);
      sock.cork();
      try {
        for (const e of entries) {
          c.sendLive(e);
          if (c.closed) break;
          if (sock.writableLength >= flushAt) {
            sock.uncork();
            sock.cork();
          }
        }
      } finally {
        sock.uncork();
      }
    }
  }

  closeAll(code: number, reason: string): void {
    for (const c of [...this.conns]) c.close(code, reason);
    this.conns.clear();
  }
}
