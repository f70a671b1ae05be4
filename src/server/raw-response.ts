import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HTTP_ERRORS, type HttpErrorCode } from '../protocol/errors';
import { errorBody } from './http-errors';

/**
 * A complete HTTP/1.1 error answer written straight to a socket, for the places Fastify never
 * sees: the HTTP parser's `clientError`, a refused WebSocket upgrade, `CONNECT`. Same JSON shape
 * and codes as every other answer; `Connection: close`, then the socket is closed.
 */

/** Closed sockets whose refusal is already written (the parser may report more errors). */
const answered = new WeakSet<Duplex>();

/** How long a closing socket may take to flush the answer before it is destroyed. */
const FLUSH_GRACE_MS = 2000;

export function writeRawError(
  socket: Duplex,
  code: HttpErrorCode,
  message: string,
  details: Record<string, unknown> | null,
  headers: Record<string, string> = {},
): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  // An answer of the HTTP layer may already be on its way on this socket: never mix two.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || (inFlight && inFlight.headersSent)) {
    socket.destroy();
    return;
  }
  const status = HTTP_ERRORS[code];
  const body = JSON.stringify(errorBody(code, message, details));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const timer = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS);
  timer.unref();
  socket.once('finish', () => {
    clearTimeout(timer);
    socket.destroy();
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      extra +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The same answer through a `ServerResponse` Node created itself (e.g. `checkExpectation`). */
export function sendRawError(res: ServerResponse, code: HttpErrorCode, message: string, details: Record<string, unknown> | null): void {
  const body = JSON.stringify(errorBody(code, message, details));
  res.writeHead(HTTP_ERRORS[code], {
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
