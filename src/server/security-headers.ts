import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { IncomingMessage } from 'node:http';

/** A Host value safe to echo into a header (the Host check refuses the rest anyway). */
const SAFE_HOST = /^[A-Za-z0-9.\-:[\]]{1,300}$/;

/**
 * Security headers on every response (`@fastify/helmet`): a strict Content-Security-Policy —
 * scripts, styles, fonts and connections only from this origin (plus its own WebSocket URL),
 * no inline script or style element, no framing (`frame-ancestors 'none'`), no plugins, forms
 * and `<base>` only to this origin — `X-Content-Type-Options: nosniff`, `Referrer-Policy:
 * no-referrer`, and HSTS only when the public URL is https (a loopback http server must not
 * pin browsers to https). Registered on the root instance (helmet is not encapsulated).
 */
export function securityHeaderOptions(opts: { publicUrl: string | null }): FastifyHelmetOptions {
  const https = opts.publicUrl?.startsWith('https:') ?? false;
  const ownSocket = (req: IncomingMessage): string => {
    const host = req.headers.host;
    return host && SAFE_HOST.test(host) ? `ws://${host} wss://${host}` : '';
  };
  return {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'", ownSocket as unknown as string],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  };
}
