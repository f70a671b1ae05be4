import type { Socket } from 'node:net';

export interface LingerOptions {
  /** Most request bytes read and discarded after the answer before the socket is destroyed. */
  maxBytes: number;
  /** Longest the socket lingers after the answer. */
  maxMs: number;
}

export const LINGER_DEFAULTS: LingerOptions = { maxBytes: 64 * 1024 * 1024, maxMs: 10_000 };

/**
 * Lingering close for an answer given before the request body was read (413): Node would
 * destroy the socket right after writing the answer, and a client still sending its body gets
 * a reset (EPIPE/ECONNRESET) instead of the answer it was sent. Instead the socket is
 * half-closed once the answer is written (the client reads it to the end), the rest of the
 * body is read and discarded (Node's HTTP parser dumps it), and the socket is destroyed when
 * the client closes, after `maxBytes` more bytes, or after `maxMs` — whichever comes first.
 * Call before the answer is sent.
 */
export function lingerOnClose(socket: Socket, opts: LingerOptions = LINGER_DEFAULTS): void {
  const marked = socket as Socket & { lingering?: boolean };
  if (marked.lingering || socket.destroyed) return;
  marked.lingering = true;
  socket.destroySoon = function lingeringDestroySoon(this: Socket) {
    const startBytes = this.bytesRead;
    const stop = () => {
      clearInterval(timer);
      this.destroy();
    };
    const timer = setInterval(() => {
      if (this.destroyed || this.bytesRead - startBytes > opts.maxBytes) stop();
    }, 50);
    timer.unref();
    const deadline = setTimeout(stop, opts.maxMs);
    deadline.unref();
    this.once('close', () => {
      clearInterval(timer);
      clearTimeout(deadline);
    });
    this.once('end', stop); // the client finished and closed its side
    this.end(); // half-close: the answer is complete for the client
    return this;
  };
}
