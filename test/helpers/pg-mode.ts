import { createHash, randomBytes } from 'node:crypto';
import { afterAll, expect } from 'vitest';
import { dropTestSchema, isWebchatSchema, testDatabaseUrl } from '../../src/webchat/store/store-test-engines';

/**
 * PostgreSQL mode for integration tests: a test file calls `usePostgresMode()` (before its
 * servers start) and every server `startServer`/`spawnServer` starts gets `--database-url`
 * with a schema of its own, derived from the SQLite path the test passes: a restart on the
 * same path (kill -9 tests) finds the same schema. Schemas are dropped after the file.
 * Needs PostgreSQL on 127.0.0.1:5432, database `test` (see store-test-engines.ts).
 */

let mode: { salt: string; schemas: Set<string> } | null = null;

export function usePostgresMode(): void {
  const m = { salt: randomBytes(6).toString('hex'), schemas: new Set<string>() };
  mode = m;
  // registered before the imported suite's hooks: runs after them (its servers are closed)
  afterAll(async () => {
    mode = null;
    const unused: string[] = [];
    for (const s of m.schemas) {
      if (!(await isWebchatSchema(s))) unused.push(s);
      await dropTestSchema(s);
    }
    // the servers really ran on PostgreSQL: every schema handed out holds a migrated store
    expect(unused).toEqual([]);
    expect(m.schemas.size).toBeGreaterThan(0);
  });
}

/** The extra server flags for a database path: none in SQLite mode. */
export function databaseArgs(dbPath: string): string[] {
  if (!mode) return [];
  const schema = `t_${createHash('sha256').update(`${mode.salt}:${dbPath}`).digest('hex').slice(0, 16)}`;
  mode.schemas.add(schema);
  return ['--database-url', testDatabaseUrl(schema)];
}
