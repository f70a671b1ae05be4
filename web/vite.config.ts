import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The browser UI. `npm run build` writes `web/dist`, which the server serves at `<root>/` and
 * `<root>/assets/*`. Asset URLs are relative (`base: './'`); the server rewrites the `<base>` of
 * `index.html` to `<root>/`, so the same build works under any `--root` and on `/c/<conv_id>`
 * pages, with no inline script (the Content-Security-Policy forbids it).
 * `npx vite --config web/vite.config.ts` runs a dev server that proxies the API to
 * `MW_BACKEND` (default http://127.0.0.1:8080).
 */
const backend = process.env.MW_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api': backend,
      '/chat': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
});
