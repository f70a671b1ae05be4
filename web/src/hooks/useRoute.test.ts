import { describe, expect, it } from 'vitest';
import { convIdFromPath } from './useRoute';

describe('convIdFromPath', () => {
  it('reads /c/<id> under the root prefix', () => {
    expect(convIdFromPath('/c/abc-1_2', '')).toBe('abc-1_2');
    expect(convIdFromPath('/c/abc/', '')).toBe('abc');
    expect(convIdFromPath('/x/c/abc', '/x')).toBe('abc');
    expect(convIdFromPath('/', '')).toBeNull();
    expect(convIdFromPath('/x/', '/x')).toBeNull();
    expect(convIdFromPath('/c/bad%20id', '')).toBeNull();
    expect(convIdFromPath('/c/a/b', '')).toBeNull();
  });
});
