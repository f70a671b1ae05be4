import { connect } from 'node:net';
import { expect } from 'vitest';
import { ErrorBody, HTTP_ERRORS } from '../../src/protocol/errors';

/**
 * Raw HTTP/1.1 over `net.connect`, for requests `fetch` cannot send (unknown methods, bad
 * encodings, any `Host`, over-long headers, a body sent byte by byte) and for answers Node
 * writes before any route runs. One request per connection.
 */

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** The whole answer as received. */
  text: string;
}

export interface RawOptions {
  /** Written one after another, `gapMs` apart (default: all at once). */
  chunks?: (string | Buffer)[];
  gapMs?: number;
  /** Give up (resolve null if nothing came) after this long. */
  timeoutMs?: number;
  /** The request was HEAD: the answer has no body whatever its Content-Length says. */
  head?: boolean;
}

/** Parses the first answer in `data`; null while its head or body is incomplete. */
export function parseAnswer(data: Buffer, opts: { head?: boolean; closed?: boolean } = {}): RawAnswer | null {
  const text = data.toString('utf8');
  // Interim answers (100 Continue, 102, 103) come before the real one.
  while (/^HTTP\/1\.[01] 1(0[023])/.test(data.toString('latin1', 0, 16))) {
    const i = data.indexOf('\r\n\r\n');
    if (i < 0) return null;
    data = data.subarray(i + 4);
  }
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = data.toString('latin1', 0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
  if (!m) throw new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const status = Number(m[1]);
  let body = data.subarray(end + 4);
  const noBody = opts.head || status === 101 || status === 204 || status === 304;
  if (noBody) body = Buffer.alloc(0);
  else if (headers['content-length'] !== undefined) {
    const len = Number(headers['content-length']);
    if (body.length < len) return null;
    body = body.subarray(0, len);
  } else if (!opts.closed) return null; // chunked or until close
  return { status, headers, body: body.toString('utf8'), text };
}

/** Sends `request` (or `opts.chunks`) and resolves with the answer, or null if the socket closed without one. */
export function rawRequest(port: number, request: string | Buffer, opts: RawOptions = {}): Promise<RawAnswer | null> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      let a: RawAnswer | null = null;
      try {
        a = parseAnswer(got, { head: opts.head, closed });
      } catch {
        a = null;
      }
      if (!a && !closed) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish(true), opts.timeoutMs ?? 10_000);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      finish(false);
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    const chunks = opts.chunks ?? [request];
    let i = 0;
    const next = () => {
      if (done || sock.destroyed || i >= chunks.length) return;
      sock.write(chunks[i++]!);
      if (i < chunks.length) setTimeout(next, opts.gapMs ?? 0);
    };
    next();
  });
}

/** Asserts the documented error shape: JSON content type, `{error:{code,message,details}}`, code listed with this status. */
export function expectErrorShape(a: RawAnswer | null, code?: string): ErrorBody {
  expect(a, 'an HTTP answer').not.toBeNull();
  expect(a!.headers['content-type'], a!.text).toMatch(/^application\/json/);
  const body = ErrorBody.parse(JSON.parse(a!.body));
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(body.error.code in HTTP_ERRORS, `${body.error.code} is a documented code`).toBe(true);
  expect(HTTP_ERRORS[body.error.code as keyof typeof HTTP_ERRORS], `status of ${body.error.code}`).toBe(a!.status);
  expect(body.error.message).not.toBe('');
  if (code !== undefined) expect(body.error.code).toBe(code);
  return body;
}

/**
 * `METHOD path HTTP/1.1` with headers (`Host: 127.0.0.1` unless given; `null` leaves a header
 * out), `Connection: close` and a body with its Content-Length.
 */
export function httpText(method: string, path: string, headers: Record<string, string | null> = {}, body = ''): string {
  const h: Record<string, string | null> = { Host: '127.0.0.1', ...headers };
  if (body !== '' && h['Content-Length'] === undefined) h['Content-Length'] = String(Buffer.byteLength(body));
  const lines = Object.entries(h)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('')}Connection: close\r\n\r\n${body}`;
}
