import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap', () => {
    const mid = (n: number) => backoffDelay(n, 0.5);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(mid)).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('jitters within ±20% and never exceeds the cap', () => {
    for (let n = 1; n < 12; n++) {
      const center = Math.min(DEFAULT_BACKOFF.maxMs, 250 * 2 ** (n - 1));
      const lo = backoffDelay(n, 0);
      const hi = backoffDelay(n, 0.999999);
      expect(lo).toBeGreaterThanOrEqual(Math.floor(center * 0.8));
      expect(hi).toBeLessThanOrEqual(Math.min(DEFAULT_BACKOFF.maxMs, Math.ceil(center * 1.2)));
      expect(hi).toBeGreaterThan(lo);
    }
  });
});
