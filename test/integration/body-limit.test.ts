import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../src/protocol/errors';
import { spawnServer, tempDir, type ChildServer, type TempDir } from '../helpers/server';

/**
 * A body over the limit gets its 413 JSON answer and the client reads it (lingering close):
 * the server answers before reading the body, half-closes, and discards the rest of the body
 * instead of resetting a connection the client is still writing to. A separate server process,
 * as a user runs it (in-process servers hide the race).
 */

let dir: TempDir;
let srv: ChildServer;
beforeAll(async () => {
  dir = tempDir();
  srv = await spawnServer({ db: dir.file('webchat.db') });
});
afterAll(async () => {
  await srv?.stop();
  dir?.remove();
});

describe('body over the limit', () => {
  it("20 POSTs of 3 MiB with Node's fetch all receive the 413 JSON body", async () => {
    const body = Buffer.from(JSON.stringify({ prompt: 'x'.repeat(3 * 1024 * 1024) }));
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        const res = await fetch(`${srv.base}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const err = ErrorBody.parse(await res.json()).error;
        outcomes.push(`${res.status} ${err.code} ${JSON.stringify(err.details)}`);
      } catch (e) {
        outcomes.push(`failed: ${String((e as { cause?: { code?: string } }).cause?.code ?? e)}`);
      }
    }
    expect(outcomes).toEqual(Array(20).fill(`413 payload_too_large ${JSON.stringify({ limit_bytes: 1024 * 1024 })}`));
    // nothing was accepted
    expect((await srv.api.get('/api/conversations')).json.items).toEqual([]);
  });

  it('the server half-closes after the answer and keeps reading: the client finishes its body without a reset', async () => {
    const sock = net.connect({ port: srv.port, host: '127.0.0.1', allowHalfOpen: true }); // like a client still sending its body
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let answer = '';
    let errored: Error | null = null;
    sock.on('data', (d) => (answer += String(d)));
    sock.on('error', (e) => (errored = e));
    const ended = new Promise<void>((r) => sock.once('end', () => r()));
    const total = 4 * 1024 * 1024;
    sock.write(`POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
    sock.write(Buffer.alloc(64 * 1024, 'x'));
    await ended; // the answer is complete (the server's FIN) while most of the body is unsent
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('payload_too_large');
    // the rest of the body still goes through: no EPIPE / ECONNRESET
    for (let sent = 64 * 1024; sent < total; sent += 256 * 1024) {
      await new Promise<void>((r, j) => sock.write(Buffer.alloc(Math.min(256 * 1024, total - sent), 'x'), (e) => (e ? j(e) : r())));
    }
    await new Promise<void>((r) => sock.end(() => r()));
    await new Promise<void>((r) => (sock.closed ? r() : sock.once('close', () => r())));
    expect(errored).toBeNull();
  });
});
