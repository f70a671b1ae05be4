import type { FastifyInstance } from 'fastify';
import { sendError } from '../http-errors';
import { metricsAccess } from '../metrics-access';
import type { RouteDeps } from './deps';

/** `/healthz` (liveness), `/readyz` (store and bus reachable), `/metrics` (Prometheus). */
export async function healthRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { service, metrics, config } = deps;

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (request, reply) => {
    let result: { ready: boolean; checks: Record<string, boolean> };
    try {
      result = await service.ready();
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return sendError(reply, 'not_ready', 'readiness check failed', { checks: {} });
    }
    if (!result.ready) return sendError(reply, 'not_ready', 'not ready', { checks: result.checks });
    return { ok: true, checks: result.checks };
  });

  app.get('/metrics', { onRequest: metricsAccess(config.metricsToken) }, async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}
