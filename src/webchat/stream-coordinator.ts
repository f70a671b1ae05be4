import { envelope, type ResyncReason } from '../protocol/frames';
import { PROTOCOL_VERSION } from '../protocol/ids';
import type { WsLike } from './chat-service';
import { ConnectionPool, SocketConn } from './connection-pool';
import type { ConversationLog } from './conversation-log';
import type { WebchatMetrics } from './webchat-metrics';

const REPLAY_PAGE = 1000;

export interface AttachOptions {
  since: number | null;
  epoch: string | null;
  runtimeKey: string;
  sendLimitBytes: number;
}

/**
 * One ordered consumer per conversation with local sockets: it feeds the pool with committed
 * frames and brings each new socket up to date — registered first, then `ws.hello`, then replay
 * of `seq > since` at the socket's pace, then live, skipping what it already sent (tRPC's
 * "subscribe before replay").
 */
export class StreamCoordinator {
  readonly pool: ConnectionPool;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly log: ConversationLog, private readonly metrics: WebchatMetrics) {
    this.pool = new ConnectionPool(metrics);
  }

  private ensureSubscribed(): void {
    if (!this.unsubscribe) this.unsubscribe = this.log.subscribe((entries) => this.pool.broadcast(entries));
  }

  private maybeStop(): void {
    if (this.pool.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = null;
    }
  }

  get socketCount(): number {
    return this.pool.size;
  }

  async attach(ws: WsLike, o: AttachOptions): Promise<SocketConn> {
    const conn = new SocketConn(ws, o.sendLimitBytes, this.metrics);
    this.ensureSubscribed();
    this.pool.add(conn);
    ws.on('close', () => this.maybeStop());
    const convId = this.log.convId;
    const now = Date.now();
    conn.sendControl(JSON.stringify(envelope('ws.hello', `ws.hello:${convId}:${now}`, {
      convId, runtimeKey: o.runtimeKey, serverTime: now, lastSeq: this.log.lastSeq, epoch: this.log.epoch, protocolVersion: PROTOCOL_VERSION,
    })));
    if (o.since === null) {
      conn.lastSentSeq = this.log.lastSeq;
      conn.mode = 'live';
      return conn;
    }
    const reason = this.resyncReason(o.since, o.epoch);
    if (reason) {
      this.sendResync(conn, reason);
      return conn;
    }
    conn.lastSentSeq = o.since;
    while (conn.isOpen) {
      if (conn.lastSentSeq >= this.log.lastSeq) {
        conn.mode = 'live'; // synchronous switch: no frame can fall between replay and live
        break;
      }
      const page = await this.log.read(conn.lastSentSeq, REPLAY_PAGE);
      if (page.length === 0) {
        // retention lost what the client needs: never a silently short replay (D3)
        this.sendResync(conn, 'since_too_old');
        break;
      }
      await conn.sendPaced(page);
    }
    return conn;
  }

  /**
   * Takes over a socket that waited for this conversation to exist (it got its `ws.hello` with
   * lastSeq 0 and this epoch): live from seq 0, so it receives every frame. Called before the
   * first frame is appended.
   */
  adopt(ws: WsLike, sendLimitBytes: number): SocketConn {
    const conn = new SocketConn(ws, sendLimitBytes, this.metrics);
    this.ensureSubscribed();
    this.pool.add(conn);
    ws.on('close', () => this.maybeStop());
    conn.lastSentSeq = this.log.lastSeq;
    conn.mode = 'live';
    return conn;
  }

  private resyncReason(since: number, epoch: string | null): ResyncReason | null {
    // since=0 replays everything, which is exact whatever the epoch
    if (epoch !== null && epoch !== this.log.epoch && since > 0) return 'epoch_changed';
    if (since > this.log.lastSeq) return 'since_ahead';
    return null;
  }

  private sendResync(conn: SocketConn, reason: ResyncReason): void {
    const convId = this.log.convId;
    conn.sendControl(JSON.stringify(envelope('ws.resync', `ws.resync:${convId}:${Date.now()}`, { convId, lastSeq: this.log.lastSeq, epoch: this.log.epoch, reason })));
    conn.lastSentSeq = this.log.lastSeq;
    conn.mode = 'live';
  }

  pong(ws: WsLike): void {
    sendPong(ws, this.log.convId);
  }

  closeAll(code: number, reason: string): void {
    this.pool.closeAll(code, reason);
    this.maybeStop();
  }
}

/** `ws.pong` to one socket (the answer to a client's ping). */
export function sendPong(ws: WsLike, convId: string): void {
  const now = Date.now();
  if (ws.readyState === 1) ws.send(JSON.stringify(envelope('ws.pong', `ws.pong:${convId}:${now}`, { convId, serverTime: now })), { binary: false });
}
