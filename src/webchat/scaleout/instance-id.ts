import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * The default identity of a server process in scale-out: `<hostname>-<pid>-<random>`. The random
 * part makes a restarted process (same host, possibly the same pid in a container) a new
 * instance, so it never mistakes leases or commands of its previous life for its own.
 */
export function defaultInstanceId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
  return `${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Instance ids go into hash tags and lease values: printable, no braces or whitespace, bounded. */
export function isValidInstanceId(id: string): boolean {
  return /^[A-Za-z0-9._:-]{1,128}$/.test(id);
}
