import type { FastifyInstance } from 'fastify';
import { TimelineQuery } from '../../protocol/http';
import { parseInput } from '../http-errors';
import { principalOf, type RouteDeps } from './deps';

/** `GET /api/timeline?conv_id=…`: the hydration snapshot (an unknown conversation is empty). */

export async function timelineRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.get('/api/timeline', async (request) => {
    const q = parseInput(TimelineQuery, request.query, 'query');
    return deps.service.getTimeline(q.conv_id, principalOf(request));
  });
}
