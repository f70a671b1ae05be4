import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ConvId } from '../../protocol/ids';
import { parseInput } from '../http-errors';
import { principalOf, type RouteDeps } from './deps';

/** `GET /api/timeline?conv_id=…`: the hydration snapshot (an unknown conversation is empty). */
const TimelineQuery = z.object({ conv_id: ConvId });

export async function timelineRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.get('/api/timeline', async (request) => {
    const q = parseInput(TimelineQuery, request.query, 'query');
    return deps.service.getTimeline(q.conv_id, principalOf(request));
  });
}
