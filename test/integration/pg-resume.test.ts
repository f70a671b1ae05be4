import { usePostgresMode } from '../helpers/pg-mode';

// resume.test.ts on the PostgreSQL store (--database-url), unchanged.
usePostgresMode();
await import('./resume.test');
