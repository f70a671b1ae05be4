import { usePostgresMode } from '../helpers/pg-mode';

// streaming.test.ts on the PostgreSQL store (--database-url), unchanged.
usePostgresMode();
await import('./streaming.test');
