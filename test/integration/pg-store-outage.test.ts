import { usePostgresMode } from '../helpers/pg-mode';

// store-outage.test.ts on the PostgreSQL store (--database-url), unchanged.
usePostgresMode();
await import('./store-outage.test');
