import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest globalSetup: builds the web UI (`npm run build` → web/dist) when it is missing or older
 * than its sources, once per test run, so the browser tests always exercise the current UI.
 * A fresh build costs nothing but a few stats.
 */

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SOURCES = ['web/index.html', 'web/vite.config.ts', 'web/src', 'src/protocol'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) {
    if (!name.endsWith('.test.ts')) max = Math.max(max, newest(join(path, name)));
  }
  return max;
}

export function uiIsStale(): boolean {
  const built = join(ROOT, 'web/dist/index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return SOURCES.some((s) => newest(join(ROOT, s)) > builtAt);
}

export default async function setup(): Promise<void> {
  if (!uiIsStale()) return;
  // Another test run may be building right now: one build at a time.
  const lock = join(tmpdir(), 'moments-webchat-ui-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`UI build lock ${lock} held for 2 minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (uiIsStale()) {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
        cwd: ROOT,
        stdio: 'inherit',
      });
    }
  } finally {
    rmdirSync(lock);
  }
}
