import { describe, expect, it } from 'vitest';
import { SocketConn } from './connection-pool';
import { FakeSocket } from './testing/fake-socket';
import { noopMetrics } from './webchat-metrics';

const entry = (seq: number, text: string) => ({ seq, json: text, buf: Buffer.from(text) });

describe('SocketConn live delivery bound', () => {
  it('an idle socket takes one frame larger than the limit; a backed-up one is closed 1013', () => {
    const ws = new FakeSocket();
    const conn = new SocketConn(ws, 10, noopMetrics);
    conn.mode = 'live';
    conn.sendLive(entry(1, 'x'.repeat(50)));
    expect(ws.sent).toHaveLength(1);
    expect(ws.closeCode).toBeNull();
    ws.bufferedAmount = 5;
    conn.sendLive(entry(2, 'y'.repeat(6)));
    expect(ws.closeCode).toBe(1013);
    expect(ws.sent).toHaveLength(1);
  });

  it('never sends a seq twice or out of order', () => {
    const ws = new FakeSocket();
    const conn = new SocketConn(ws, 1 << 20, noopMetrics);
    conn.mode = 'live';
    for (const s of [1, 2, 2, 1, 3]) conn.sendLive(entry(s, `f${s}`));
    expect(ws.sent).toEqual(['f1', 'f2', 'f3']);
  });
});
