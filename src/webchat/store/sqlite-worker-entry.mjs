// The database worker thread's entry (see sqlite-worker.ts): a worker starts as plain Node,
// without the TypeScript loader of its parent (tsx on the server and bench, vite under vitest),
// so it registers tsx itself, as bin/moments-webchat.mjs does, then loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-worker.ts');
