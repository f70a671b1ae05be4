#!/usr/bin/env node
// `npm start` runs this first: builds the web UI into web/dist when it is missing, so a fresh
// clone needs only `npm install` then `npm start`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'web', 'dist', 'index.html')) && existsSync(join(root, 'web', 'vite.config.ts'))) {
  console.log('moments-webchat: building the web UI (first start)…');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('moments-webchat: the UI build failed; the server still starts and serves the API.');
  }
}
