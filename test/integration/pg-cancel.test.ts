import { usePostgresMode } from '../helpers/pg-mode';

// cancel.test.ts on the PostgreSQL store (--database-url), unchanged.
usePostgresMode();
await import('./cancel.test');
