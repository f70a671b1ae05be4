import { usePostgresMode } from '../helpers/pg-mode';

// crash.test.ts on the PostgreSQL store (--database-url), unchanged.
usePostgresMode();
await import('./crash.test');
