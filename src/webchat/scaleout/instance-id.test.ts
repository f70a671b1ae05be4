import { describe, expect, it } from 'vitest';
import { defaultInstanceId, isValidInstanceId } from './instance-id';

describe('instance ids', () => {
  it('default ids are valid, carry the pid, and differ between calls', () => {
    const a = defaultInstanceId();
    const b = defaultInstanceId();
    expect(isValidInstanceId(a)).toBe(true);
    expect(a).toContain(`-${process.pid}-`);
    expect(a).not.toBe(b);
  });

  it('refuses ids that would break a hash tag or a lease value', () => {
    for (const bad of ['', 'a{b}', 'a b', 'x'.repeat(129), 'a\nb']) expect(isValidInstanceId(bad)).toBe(false);
  });
});
