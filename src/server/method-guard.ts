import type { FastifyInstance } from 'fastify';
import { httpError } from './http-errors';

/**
 * 405 for a known path with the wrong method. Fastify answers 404 there; instead we record
 * every route as it is added and, once all route plugins are loaded, register the missing
 * methods of each known path with an `onRequest` hook that refuses them with
 * `method_not_allowed` and an `Allow` header. `onRequest` runs before body parsing, so a wrong
 * method is reported as such whatever body or content type it carries.
 *
 * Wildcard routes (static files) are not guarded: an unknown method there stays 404.
 */

const GUARDED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export interface MethodGuard {
  /** Call on the root instance before any route plugin is registered. */
  collect(app: FastifyInstance): void;
  /** Register as a plugin after every route plugin. */
  plugin(app: FastifyInstance): Promise<void>;
}

export function createMethodGuard(): MethodGuard {
  const known = new Map<string, Set<string>>();
  return {
    collect(app) {
      app.addHook('onRoute', (route) => {
        if ((route.config as { methodGuard?: boolean } | undefined)?.methodGuard) return;
        if (route.url.includes('*')) return;
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        const set = known.get(route.url) ?? new Set<string>();
        for (const m of methods) set.add(m.toUpperCase());
        known.set(route.url, set);
      });
    },
    async plugin(app) {
      for (const [url, methods] of known) {
        // Some routes are added without an onRoute event (the trailing-slash twin of a prefixed
        // '/'), so ask the router too.
        for (const m of GUARDED_METHODS) if (app.hasRoute({ method: m, url })) methods.add(m);
        if (methods.has('GET')) methods.add('HEAD');
        const missing = GUARDED_METHODS.filter((m) => !methods.has(m));
        if (missing.length === 0) continue;
        const allow = [...methods].sort().join(', ');
        app.route({
          method: missing,
          url,
          config: { methodGuard: true },
          onRequest: async (request, reply) => {
            reply.header('allow', allow);
            throw httpError('method_not_allowed', `${request.method} is not allowed on ${url}; allowed: ${allow}`, {
              allow: allow.split(', '),
            });
          },
          handler: async () => undefined,
        });
      }
    },
  };
}
