import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CLOSE_CODES, type HttpErrorCode } from '../protocol/errors';
import { CONV_ID_PATTERN } from '../protocol/ids';
import type { ChatService } from '../webchat/chat-service';
import { isWebchatError } from '../webchat/webchat-error';
import type { HostCheck, OriginCheck } from './host-check';
import type { Metrics } from './metrics';
import { writeRawError } from './raw-response';

/**
 * `GET <root>/ws?conv_id=…[&since=N&epoch=E]` (protocol.md "WebSocket /ws"). Bad query → a plain
 * HTTP 400 with the JSON error body and no upgrade. A good one hands the socket to
 * `service.attachSocket`, which sends `ws.hello`, replays and streams. This module owns the
 * transport around it: the incoming size limit (ws closes 1009 by itself), liveness pings, and
 * closing every socket 1001 on shutdown. (The sockets gauge is the runtime's connection pool's.)
 */

export interface WsUpgradeOptions {
  root: string;
  service: ChatService;
  metrics: Metrics;
  logger: FastifyBaseLogger;
  maxMessageBytes: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** The `Host` check of the HTTP routes, applied before any upgrade (default: none). */
  hostCheck?: HostCheck;
  /** The same list for a browser's `Origin` (default: none). */
  originCheck?: OriginCheck;
  /** Auth seam: the principal of an upgrade request (checked before the upgrade). */
  principalOf?: (req: IncomingMessage) => string | null;
}

export interface WsUpgrade {
  readonly wss: WebSocketServer;
  /** Closes every socket with 1001 (waiting briefly for the handshake), then stops. */
  close(): Promise<void>;
}

/** Parsed upgrade query, or the refusal. */
export type UpgradeQuery =
  | { ok: true; convId: string; since: number | null; epoch: string | null }
  | { ok: false; message: string; details: Record<string, unknown> };

const MAX_EPOCH_CHARS = 256;

export function parseUpgradeQuery(params: URLSearchParams): UpgradeQuery {
  const bad = (path: string, message: string): UpgradeQuery => ({
    ok: false,
    message: `invalid query (${path}: ${message})`,
    details: { issues: [{ path, code: 'custom', message }] },
  });
  const single = (name: string): string | null | undefined => {
    const all = params.getAll(name);
    return all.length === 0 ? null : all.length === 1 ? all[0] : undefined;
  };
  const convId = single('conv_id');
  if (convId === null) return bad('conv_id', 'required');
  if (convId === undefined || !CONV_ID_PATTERN.test(convId)) return bad('conv_id', 'must match ^[A-Za-z0-9_-]{1,128}$');
  const sinceRaw = single('since');
  if (sinceRaw === undefined || (sinceRaw !== null && !/^\d{1,16}$/.test(sinceRaw))) {
    return bad('since', 'must be a non-negative integer');
  }
  const since = sinceRaw === null ? null : Number(sinceRaw);
  if (since !== null && !Number.isSafeInteger(since)) return bad('since', 'must be a non-negative integer');
  const epoch = single('epoch');
  if (epoch === undefined || (epoch !== null && (epoch === '' || epoch.length > MAX_EPOCH_CHARS))) {
    return bad('epoch', `must be one non-empty string of at most ${MAX_EPOCH_CHARS} characters`);
  }
  return { ok: true, convId, since, epoch };
}

/** Writes a complete HTTP error response on a not-upgraded socket and closes it. */
const refuse = (socket: Duplex, code: HttpErrorCode, message: string, details: Record<string, unknown> | null) =>
  writeRawError(socket, code, message, details);

/** The close code for a refusal of `attachSocket`. */
const closeCodeFor = (err: unknown): number => {
  if (!isWebchatError(err)) return 1011;
  switch (err.code) {
    case 'conversation_deleted':
      return CLOSE_CODES.deleted;
    case 'forbidden':
      return CLOSE_CODES.forbidden;
    case 'unauthorized':
      return CLOSE_CODES.policy;
    default:
      return 1011;
  }
};

export function attachWebSocket(server: Server, opts: WsUpgradeOptions): WsUpgrade {
  const { service, metrics, logger } = opts;
  const path = `${opts.root}/ws`;
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes, clientTracking: true });
  // A handshake ws refuses (method, Sec-WebSocket-Key/Version/Protocol/Extensions headers) is
  // answered in the error shape too, not ws's text/html one.
  wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
    const code: HttpErrorCode = req.method !== 'GET' ? 'method_not_allowed' : 'bad_request';
    refuse(socket, code, `WebSocket handshake refused: ${err.message}`, null);
  });
  let closing = false;

  const onConnection = (ws: WebSocket, convId: string, since: number | null, epoch: string | null, principal: string | null) => {
    const log = logger.child({ conv_id: convId });
    let pongTimer: NodeJS.Timeout | null = null;
    const pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN || pongTimer) return;
      pongTimer = setTimeout(() => {
        log.info('websocket pong timeout; terminating');
        metrics.socketDropped('pong_timeout');
        ws.terminate();
      }, opts.pongTimeoutMs);
      pongTimer.unref();
      ws.ping();
    }, opts.pingIntervalMs);
    pingTimer.unref();

    ws.on('pong', () => {
      if (pongTimer) clearTimeout(pongTimer);
      pongTimer = null;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return; // protocol: anything but the ping forms is ignored
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      try {
        service.onSocketMessage(convId, ws, text);
      } catch (err) {
        log.error({ err }, 'onSocketMessage failed');
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself after an error (1009 for a message over maxPayload).
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') metrics.socketDropped('message_too_big');
      log.debug({ err }, 'websocket error');
    });
    ws.on('close', () => {
      clearInterval(pingTimer);
      if (pongTimer) clearTimeout(pongTimer);
    });

    service.attachSocket(convId, ws, { since, epoch }, principal).catch((err: unknown) => {
      const code = closeCodeFor(err);
      if (code === 1011) log.error({ err }, 'attachSocket failed');
      else log.debug({ err }, 'attachSocket refused');
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        ws.close(code, isWebchatError(err) ? err.code : 'internal');
      }
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 'bad_request', 'malformed URL', null);
    }
    const hostRefusal = opts.hostCheck?.(req.headers.host) ?? opts.originCheck?.(req.headers.origin);
    if (hostRefusal) return refuse(socket, hostRefusal.code, hostRefusal.message, hostRefusal.details);
    if (url.pathname !== path) return refuse(socket, 'not_found', `no WebSocket endpoint at ${url.pathname}`, null);
    if (closing) return refuse(socket, 'not_ready', 'server is shutting down', null);
    const q = parseUpgradeQuery(url.searchParams);
    if (!q.ok) return refuse(socket, 'bad_request', q.message, q.details);
    let principal: string | null;
    try {
      principal = opts.principalOf ? opts.principalOf(req) : null;
    } catch (err) {
      if (isWebchatError(err)) return refuse(socket, err.code, err.message, err.details);
      logger.error({ err }, 'websocket auth failed');
      return refuse(socket, 'internal', 'internal server error', null);
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, q.convId, q.since, q.epoch, principal));
  };

  server.on('upgrade', onUpgrade);

  return {
    wss,
    async close() {
      closing = true;
      server.off('upgrade', onUpgrade);
      const open = [...wss.clients];
      await Promise.all(
        open.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              const timer = setTimeout(() => ws.terminate(), 1000);
              timer.unref();
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE_CODES.shutdown, 'server shutting down');
              else ws.terminate();
            }),
        ),
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
