import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SpaFallback } from '../http-errors';

/**
 * The browser UI: `web/dist` served at `<root>/` and `<root>/assets/*`, with an SPA fallback
 * (a browser GET of an unknown page path gets `index.html`). `index.html` is served with its
 * `<base href>` set to `<root>/`, so its relative asset and API URLs resolve under the prefix on
 * every page (the page needs no inline script: the CSP forbids it). Without a build, `<root>/`
 * answers a short page that says how to build it.
 */

export const DEFAULT_UI_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../web/dist');

/** Paths (relative to the root) that are never the UI: their misses stay JSON 404s. */
const NOT_UI = /^\/(api|assets|ws|chat|healthz|readyz|metrics)(\/|$)/;

export interface UiOptions {
  root: string;
  uiDir: string;
  /** Serve `*.map` source maps (`--serve-source-maps`); off: they are 404 like unknown files. */
  serveSourceMaps?: boolean;
}

export const uiBuilt = (uiDir: string): boolean => existsSync(join(uiDir, 'index.html'));

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export const notBuiltPage = (uiDir: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Moments Webchat</title>
</head><body>
<h1>Moments Webchat</h1>
<p>The server is running, but the web UI is not built: <code>${escapeHtml(uiDir)}</code> has no <code>index.html</code>.</p>
<p>Build it with <code>npm run build</code> and reload this page. The HTTP and WebSocket API work without it.</p>
</body></html>
`;

/** `index.html` with its `<base href>` pointing at `<root>/`, read once per app. */
export function renderIndex(uiDir: string, root: string): string {
  const html = readFileSync(join(uiDir, 'index.html'), 'utf8');
  const base = `<base href="${escapeHtml(root)}/" />`;
  return /<base\s[^>]*>/i.test(html) ? html.replace(/<base\s[^>]*>/i, base) : html.replace(/<head>/i, `<head>\n    ${base}`);
}

const pages = new Map<string, string>();
const pageFor = (uiDir: string, root: string): string => {
  const key = `${uiDir}\u0000${root}`;
  let page = pages.get(key);
  if (page === undefined) pages.set(key, (page = renderIndex(uiDir, root)));
  return page;
};

const sendPage = (reply: FastifyReply, opts: UiOptions, built: boolean) => {
  reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');
  return reply.send(built ? pageFor(opts.uiDir, opts.root) : notBuiltPage(opts.uiDir));
};

export function createSpaFallback(opts: UiOptions): SpaFallback {
  const built = uiBuilt(opts.uiDir);
  return (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = request.url.split('?')[0]!;
    if (opts.root !== '' && path === opts.root) {
      void reply.redirect(`${opts.root}/`, 301);
      return true;
    }
    if (!path.startsWith(`${opts.root}/`)) return false;
    const rel = path.slice(opts.root.length);
    if (NOT_UI.test(rel)) return false;
    if (!String(request.headers.accept ?? '').includes('text/html')) return false;
    void sendPage(reply, opts, built);
    return true;
  };
}

/** Registered with `prefix: <root>`. */
export async function uiRoutes(app: FastifyInstance, opts: UiOptions): Promise<void> {
  if (!uiBuilt(opts.uiDir)) {
    app.get('/', async (_request, reply) => sendPage(reply, opts, false));
    return;
  }
  // `<root>/` only (`<root>` alone redirects there, see the SPA fallback)
  app.get('/', { prefixTrailingSlash: 'slash' }, async (_request, reply) => sendPage(reply, opts, true));
  await app.register(fastifyStatic, {
    root: opts.uiDir,
    prefix: '/',
    wildcard: true,
    decorateReply: false,
    index: false,
    // index.html only through `sendPage` (its <base> set); source maps only when configured
    allowedPath: (pathName) => !/(^|\/)index\.html$/i.test(pathName) && (opts.serveSourceMaps === true || !pathName.toLowerCase().endsWith('.map')),
    setHeaders(reply, filePath) {
      const hashedAsset = filePath.startsWith(join(opts.uiDir, 'assets') + sep);
      reply.header('cache-control', hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
