import { maxHeaderSize, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { HttpErrorCode } from '../protocol/errors';
import { sendRawError, writeRawError } from './raw-response';

/**
 * What Node's HTTP server answers by itself, before any route runs, in the protocol's error
 * shape instead of Node's or Fastify's bare bodies:
 * - `clientError` (the parser refused the request, or it did not arrive in time);
 * - `CONNECT` (Node would drop the socket without a word);
 * - an `Expect` header other than `100-continue` (Node would answer an empty 417).
 */

export interface ClientErrorOptions {
  /** `--request-timeout`, for the 408 message. */
  requestTimeoutMs: number;
  logger: FastifyBaseLogger;
}

/** Node's parser error (`HPE_*`) or timeout code → protocol code and message. */
export function classifyClientError(code: string | undefined, requestTimeoutMs: number): [HttpErrorCode, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['request_timeout', `the request (headers and body) did not arrive within ${requestTimeoutMs / 1000} s`];
    case 'HPE_HEADER_OVERFLOW':
      return ['headers_too_large', `request line and headers exceed ${maxHeaderSize} bytes`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return ['payload_too_large', 'chunk extensions are too large'];
    case 'HPE_INVALID_METHOD':
      return ['bad_request', 'unknown HTTP method'];
    case 'HPE_INVALID_URL':
      return ['bad_request', 'malformed request target'];
    case 'HPE_INVALID_VERSION':
      return ['bad_request', 'unsupported HTTP version'];
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return ['bad_request', 'malformed request line or header'];
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return ['bad_request', 'malformed message framing (Content-Length / Transfer-Encoding)'];
    default:
      return ['bad_request', 'malformed HTTP request'];
  }
}

/** Fastify's `clientErrorHandler`. */
export function clientErrorHandler(opts: ClientErrorOptions) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    // The peer is gone: nothing to answer.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || socket.destroyed) {
      socket.destroy();
      return;
    }
    const [code, message] = classifyClientError(err.code, opts.requestTimeoutMs);
    opts.logger.debug({ err_code: err.code, code }, 'client error');
    writeRawError(socket, code, message, { reason: err.code ?? 'unknown' });
  };
}

/** `CONNECT` and unusual `Expect` headers, answered in the error shape. */
export function attachRawRefusals(server: Server): void {
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    writeRawError(socket, 'method_not_allowed', 'CONNECT is not supported', null);
  });
  server.on('checkExpectation', (req, res) => {
    sendRawError(res, 'expectation_failed', `unsupported Expect header "${String(req.headers.expect).slice(0, 100)}"`, null);
  });
}
