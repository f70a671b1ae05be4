import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The browser UI. `npm run build` writes `web/dist`, which the server serves at `<root>/` and
 * `<root>/assets/*`. Asset URLs are relative (`base: './'`); `index.html` sets a `<base>` from
 * the page URL first, so the same build works under any `--root` and on `/c/<conv_id>` pages.
 * `npx vite --config web/vite.config.ts` runs a dev server that proxies the API to
 * `MW_BACKEND` (default http://127.0.0.1:8080).
 */
/**
 * The built `index.html` must not reference `./assets/…` in tags: on `/c/<id>` the browser's
 * preload scanner would fetch them relative to the page before the `<base>` exists (404s).
 * The tags are written by a script instead, after the `<base>` is set.
 */
function assetsAfterBase(): Plugin {
  const TAG = /\s*<(script type="module"[^>]*src="\.\/assets\/[^"]+"[^>]*><\/script>|link rel="(?:stylesheet|modulepreload)"[^>]*href="\.\/assets\/[^"]+"[^>]*>)/g;
  return {
    name: 'moments-assets-after-base',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const tags: string[] = [];
        const rest = html.replace(TAG, (_m, tag: string) => {
          tags.push(`<${tag}`);
          return '';
        });
        const literal = JSON.stringify(tags.join('')).replace(/<\//g, '<\\/');
        return rest.replace('</head>', `  <script>document.write(${literal});</script>\n  </head>`);
      },
    },
  };
}

const backend = process.env.MW_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: './',
  plugins: [react(), assetsAfterBase()],
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
