import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { httpError } from './http-errors';

/** Loopback peers: 127.0.0.0/8, ::1, and their IPv4-mapped IPv6 forms. */
export const isLoopback = (address: string | undefined): boolean =>
  !!address && (/^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(address) || address === '::1');

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Who may read `/metrics`: without a token, loopback peers only (403 `forbidden` for others);
 * with `--metrics-token`, every caller must send `Authorization: Bearer <token>` (401
 * `unauthorized` otherwise), compared in constant time. The peer is the TCP peer: a proxy in
 * front makes every request loopback, so a deployment behind one sets a token.
 */
export function metricsAccess(token: string | null) {
  const want = token === null ? null : digest(token);
  return async (request: FastifyRequest): Promise<void> => {
    if (want === null) {
      if (!isLoopback(request.socket.remoteAddress)) throw httpError('forbidden', '/metrics is served to loopback clients only; set --metrics-token to serve it to others');
      return;
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(String(request.headers.authorization ?? ''));
    if (!m || !timingSafeEqual(digest(m[1]!), want)) {
      throw httpError('unauthorized', '/metrics needs Authorization: Bearer <metrics token>');
    }
  };
}
