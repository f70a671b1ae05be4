import { createReadStream, existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SpaFallback } from '../http-errors';

/**
 * The browser UI: `web/dist` served at `<root>/` and `<root>/assets/*`, with an SPA fallback
 * (a browser GET of an unknown page path gets `index.html`). Without a build, `<root>/` answers
 * a short page that says how to build it.
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
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#eee;padding:0 .25rem}</style>
</head><body>
<h1>Moments Webchat</h1>
<p>The server is running, but the web UI is not built: <code>${escapeHtml(uiDir)}</code> has no <code>index.html</code>.</p>
<p>Build it with <code>npm run build</code> and reload this page. The HTTP and WebSocket API work without it.</p>
</body></html>
`;

const sendPage = (reply: FastifyReply, uiDir: string, built: boolean) => {
  reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');
  return built ? reply.send(createReadStream(join(uiDir, 'index.html'))) : reply.send(notBuiltPage(uiDir));
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
    void sendPage(reply, opts.uiDir, built);
    return true;
  };
}

/** Registered with `prefix: <root>`. */
export async function uiRoutes(app: FastifyInstance, opts: UiOptions): Promise<void> {
  if (!uiBuilt(opts.uiDir)) {
    app.get('/', async (_request, reply) => sendPage(reply, opts.uiDir, false));
    return;
  }
  await app.register(fastifyStatic, {
    root: opts.uiDir,
    prefix: '/',
    wildcard: true,
    decorateReply: false,
    allowedPath: (pathName) => opts.serveSourceMaps === true || !pathName.toLowerCase().endsWith('.map'),
    setHeaders(reply, filePath) {
      const hashedAsset = filePath.startsWith(join(opts.uiDir, 'assets') + sep);
      reply.header('cache-control', hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
