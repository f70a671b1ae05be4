import { describe, expect, it } from 'vitest';
import { noteServerTime, serverNow } from './server-clock';

describe('server clock', () => {
  it('shifts local time by the offset seen in ws.hello', () => {
    noteServerTime(10_000, 4_000); // the server is 6 s ahead
    expect(serverNow(5_000)).toBe(11_000);
    noteServerTime(1_000, 4_000); // now 3 s behind
    expect(serverNow(5_000)).toBe(2_000);
    noteServerTime(Number.NaN, 4_000); // ignored
    expect(serverNow(5_000)).toBe(2_000);
    noteServerTime(0, 0);
  });
});
