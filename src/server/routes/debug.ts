import type { FastifyInstance } from 'fastify';
import { DebugContinueRequest, DebugStepRequest } from '../../protocol/http';
import { ConvId } from '../../protocol/ids';
import { parseInput } from '../http-errors';
import { PauseId } from './conversations';
import { bodyOf, principalOf, type RouteDeps } from './deps';

/**
 * Pinocchio's `/api/debug/*` aliases (always on): the same service calls as
 * `PUT …/step-mode` and `POST …/pauses/:pause_id`.
 */
export async function debugRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { service } = deps;

  for (const [path, enabled] of [
    ['/api/debug/step/enable', true],
    ['/api/debug/step/disable', false],
  ] as const) {
    app.post(path, async (request) => {
      const body = parseInput(DebugStepRequest, bodyOf(request), 'request body');
      const convId = parseInput(ConvId, body.conv_id, 'conv_id');
      return service.setStepMode(convId, enabled, principalOf(request));
    });
  }

  app.post('/api/debug/continue', async (request) => {
    const body = parseInput(DebugContinueRequest, bodyOf(request), 'request body');
    const pauseId = parseInput(PauseId, body.pause_id, 'pause_id');
    const convId = body.conv_id === undefined ? null : parseInput(ConvId, body.conv_id, 'conv_id');
    return service.resolvePause(convId, pauseId, body.action ?? 'continue', body.tool_call_ids ?? null, principalOf(request));
  });
}
