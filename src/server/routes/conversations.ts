import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CancelRequest, EventsQuery, ListConversationsQuery as ListQuery, PauseActionRequest, PauseId, StepModeRequest, TurnsQuery } from '../../protocol/http';
import { ConvId } from '../../protocol/ids';
import { httpError, parseInput } from '../http-errors';
import { bodyOf, principalOf, type RouteDeps } from './deps';

/** `/api/conversations…` (protocol.md "Conversations", "Pauses and step mode"). */

export { PauseId } from '../../protocol/http';

/**
 * Integer query values must be written as integers: `z.coerce` alone would read `since=` as 0
 * and `since=0x10` as 16. Checks the raw strings before the protocol schema applies its bounds.
 */
export function integerQuery(query: unknown, names: readonly string[]): unknown {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const name of names) {
    const v = q[name];
    if (v !== undefined && (typeof v !== 'string' || !/^-?\d{1,16}$/.test(v))) {
      throw httpError('bad_request', `invalid query (${name}: must be an integer)`, {
        issues: [{ path: name, code: 'invalid_type', message: 'must be an integer' }],
      });
    }
  }
  return q;
}

export const convIdParam = (request: FastifyRequest): string =>
  parseInput(ConvId, (request.params as { id?: unknown }).id, 'conversation id');

export async function conversationRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { service } = deps;

  app.get('/api/conversations', async (request) => {
    const q = parseInput(ListQuery, integerQuery(request.query, ['limit']), 'query');
    return service.listConversations({ limit: q.limit, cursor: q.cursor ?? null }, principalOf(request));
  });

  app.get('/api/conversations/:id', async (request) => service.getConversation(convIdParam(request), principalOf(request)));

  app.delete('/api/conversations/:id', async (request, reply) => {
    await service.deleteConversation(convIdParam(request), principalOf(request));
    return reply.code(204).send();
  });

  app.post('/api/conversations/:id/cancel', async (request) => {
    const convId = convIdParam(request);
    const body = parseInput(CancelRequest, bodyOf(request), 'request body');
    return service.cancel(
      convId,
      { inferenceId: body.inference_id ?? null, clearQueue: body.clear_queue ?? false },
      principalOf(request),
    );
  });

  app.get('/api/conversations/:id/events', async (request) => {
    const convId = convIdParam(request);
    const q = parseInput(EventsQuery, integerQuery(request.query, ['since', 'limit']), 'query');
    return service.readEvents(convId, q.since, q.limit, principalOf(request));
  });

  app.get('/api/conversations/:id/turns', async (request) => {
    const convId = convIdParam(request);
    const q = parseInput(TurnsQuery, request.query, 'query');
    return service.getTurns(convId, q.full, principalOf(request));
  });

  app.put('/api/conversations/:id/step-mode', async (request) => {
    const convId = convIdParam(request);
    const body = parseInput(StepModeRequest, bodyOf(request), 'request body');
    return service.setStepMode(convId, body.enabled, principalOf(request));
  });

  app.post('/api/conversations/:id/pauses/:pause_id', async (request) => {
    const convId = convIdParam(request);
    const pauseId = parseInput(PauseId, (request.params as { pause_id?: unknown }).pause_id, 'pause id');
    const body = parseInput(PauseActionRequest, bodyOf(request), 'request body');
    return service.resolvePause(convId, pauseId, body.action, body.tool_call_ids ?? null, principalOf(request));
  });
}
