import { z } from 'zod';
import { defineTool } from '../tool-definition';

export interface GetTimeResult {
  /** Local time in `timezone` as ISO 8601 with its UTC offset (`Z` for UTC), millisecond precision. */
  iso: string;
  unixMs: number;
  /** The canonical IANA name (`Intl`'s resolved zone; e.g. `utc` → `UTC`). */
  timezone: string;
}

/** Canonical IANA zone name, or throws a clear error for an unknown one. */
export function resolveTimeZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`invalid IANA time zone: ${JSON.stringify(timeZone)}`);
  }
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** Formats `unixMs` as local ISO 8601 time in `timeZone`, with the zone's offset at that instant. */
export function formatInTimeZone(unixMs: number, timeZone: string): string {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    era: 'short',
  });
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(unixMs))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const [month, day, hour, minute, second] = [parts.month, parts.day, parts.hour, parts.minute, parts.second].map(Number) as [
    number, number, number, number, number,
  ];
  const ms = ((unixMs % 1000) + 1000) % 1000;
  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, ms);
  const offsetMin = Math.round((wall.getTime() - unixMs) / 60_000);
  const y = year >= 0 && year <= 9999 ? pad(year, 4) : (year < 0 ? '-' : '+') + pad(year, 6);
  const local = `${y}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}.${pad(ms, 3)}`;
  if (offsetMin === 0) return `${local}${timeZone === 'UTC' ? 'Z' : '+00:00'}`;
  const sign = offsetMin < 0 ? '-' : '+';
  return `${local}${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}

/** The tool, with an injectable clock (tests). Without `timezone` the answer is in UTC. */
export function createGetTimeTool(now: () => number = Date.now) {
  return defineTool({
    name: 'get_time',
    description: 'Current date and time, in UTC or in the given IANA time zone (e.g. "Europe/Paris").',
    schema: z.object({
      timezone: z.string().min(1).max(64).optional().describe('IANA time zone name, e.g. "America/New_York"; default UTC'),
    }),
    run: ({ timezone }): GetTimeResult => {
      const zone = resolveTimeZone(timezone ?? 'UTC');
      const unixMs = now();
      return { iso: formatInTimeZone(unixMs, zone), unixMs, timezone: zone };
    },
  });
}

export const getTimeTool = createGetTimeTool();
