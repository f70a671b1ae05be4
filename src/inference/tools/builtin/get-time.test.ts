import { describe, it, expect } from 'vitest';
import { createGetTimeTool, formatInTimeZone, resolveTimeZone } from './get-time';
import { DefaultToolExecutor } from '../default-tool-executor';
import { call, makeCtx } from '../test-helpers';

const T = Date.UTC(2024, 0, 15, 12, 34, 56, 789); // 2024-01-15T12:34:56.789Z (winter)
const SUMMER = Date.UTC(2024, 6, 1, 3, 4, 5, 6); // 2024-07-01T03:04:05.006Z

describe('get_time', () => {
  it('formats local ISO time with the zone offset', () => {
    expect(formatInTimeZone(T, 'UTC')).toBe('2024-01-15T12:34:56.789Z');
    expect(formatInTimeZone(T, 'Asia/Tokyo')).toBe('2024-01-15T21:34:56.789+09:00');
    expect(formatInTimeZone(T, 'America/New_York')).toBe('2024-01-15T07:34:56.789-05:00');
    expect(formatInTimeZone(SUMMER, 'America/New_York')).toBe('2024-06-30T23:04:05.006-04:00');
    expect(formatInTimeZone(T, 'Asia/Kolkata')).toBe('2024-01-15T18:04:56.789+05:30');
    expect(formatInTimeZone(T, 'Europe/London')).toBe('2024-01-15T12:34:56.789+00:00');
  });

  it('every formatted instant parses back to itself', () => {
    for (const zone of ['UTC', 'Asia/Tokyo', 'America/St_Johns', 'Pacific/Chatham', 'Australia/Lord_Howe']) {
      for (const t of [T, SUMMER, 0, Date.UTC(2024, 2, 10, 7, 0, 0)]) expect(Date.parse(formatInTimeZone(t, zone))).toBe(t);
    }
  });

  it('canonicalizes zone names and rejects unknown ones', () => {
    expect(resolveTimeZone('utc')).toBe('UTC');
    expect(() => resolveTimeZone('Mars/Olympus_Mons')).toThrow(/invalid IANA time zone/);
  });

  it('runs as a tool: default UTC, a given zone, an invalid zone as a tool error', async () => {
    const tool = createGetTimeTool(() => T);
    const { ctx } = makeCtx([tool]);
    const rs = await new DefaultToolExecutor().execute(
      [call('a', 'get_time', {}), call('b', 'get_time', { timezone: 'Asia/Tokyo' }), call('c', 'get_time', { timezone: 'Not/AZone' })],
      ctx,
    );
    expect(rs[0]).toMatchObject({ status: 'completed', result: { iso: '2024-01-15T12:34:56.789Z', unixMs: T, timezone: 'UTC' } });
    expect(rs[1]).toMatchObject({ status: 'completed', result: { iso: '2024-01-15T21:34:56.789+09:00', unixMs: T, timezone: 'Asia/Tokyo' } });
    expect(rs[2]).toMatchObject({ status: 'error', error: 'invalid IANA time zone: "Not/AZone"' });
  });
});
