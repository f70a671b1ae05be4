import { WebchatError } from '../webchat/webchat-error';

/**
 * The `Host` check against DNS rebinding: a web page on another site whose DNS name an
 * attacker points at 127.0.0.1 reaches a loopback server with `Host: <attacker's name>`.
 * Without authentication (today: always) only these hosts are served, HTTP and WebSocket
 * alike: the loopback names (`localhost`, `127.0.0.1`, `[::1]`), the host of `--public-url`
 * and the names of `--allowed-hosts` (`.example.com` = it and its subdomains; `*` = any).
 * Ports are not compared. Everything else is 403 `forbidden` before any route runs.
 */

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

export interface HostCheckOptions {
  publicUrl: string | null;
  allowedHosts: readonly string[];
}

/** `Host` header value → its host name in lower case (IPv6 bracketed), without the port; null if malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]/\s@]+)(?::\d{0,5})?$/.exec(h);
  return m ? m[1]! : null;
}

/** Returns the refusal for a `Host` header, or null when it is allowed. */
export type HostCheck = (header: string | undefined) => WebchatError | null;

/**
 * The same list for the `Origin` of a WebSocket handshake: browsers send it, and WebSockets
 * are not bound by the same-origin policy, so without this any site could open a socket to a
 * loopback server. No `Origin` (a non-browser client) passes; `null` (a sandboxed or file page)
 * does not.
 */
export type OriginCheck = (header: string | undefined) => WebchatError | null;

const shorten = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

export function createOriginCheck(opts: HostCheckOptions): OriginCheck {
  const host = createHostCheck(opts);
  return (header) => {
    if (header === undefined || opts.allowedHosts.includes('*')) return null;
    let h: string | null = null;
    try {
      const u = new URL(header);
      h = u.protocol === 'http:' || u.protocol === 'https:' ? u.host : null;
    } catch {
      h = null;
    }
    if (h !== null && h !== '' && host(h) === null) return null;
    const shown = shorten(header);
    return new WebchatError(
      'forbidden',
      `origin "${shown}" is not allowed; to serve pages from it, add its host to --allowed-hosts (WEBCHAT_ALLOWED_HOSTS) or set --public-url`,
      { origin: shown },
    );
  };
}

export function createHostCheck(opts: HostCheckOptions): HostCheck {
  if (opts.allowedHosts.includes('*')) return () => null;
  const exact = new Set(LOOPBACK);
  const suffixes: string[] = [];
  if (opts.publicUrl) {
    const name = hostName(new URL(opts.publicUrl).host);
    if (name) exact.add(name);
  }
  for (const h of opts.allowedHosts) {
    if (h.startsWith('.')) {
      suffixes.push(h);
      exact.add(h.slice(1));
    } else exact.add(h);
  }
  const allowed = (name: string) => exact.has(name) || suffixes.some((s) => name.endsWith(s));
  return (header) => {
    if (header === undefined || header.trim() === '') {
      return new WebchatError('bad_request', 'the request has no Host header', null);
    }
    const name = hostName(header);
    if (name !== null && allowed(name)) return null;
    const shown = shorten(header);
    return new WebchatError(
      'forbidden',
      `host "${shown}" is not allowed; to serve it, add it to --allowed-hosts (WEBCHAT_ALLOWED_HOSTS) or set --public-url`,
      { host: shown },
    );
  };
}
