import type { FastifyInstance } from 'fastify';
import { SelectProfileRequest } from '../../protocol/http';
import { PROFILE_COOKIE, serializeCookie } from '../cookies';
import { parseInput } from '../http-errors';
import { cookieProfile } from './chat';
import { bodyOf, type RouteDeps } from './deps';

/** `GET /api/chat/profiles`, `GET|POST /api/chat/profile` (cookie `chat_profile`). */

const COOKIE_MAX_AGE_S = 365 * 24 * 3600;

export async function profileRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { service } = deps;

  app.get('/api/chat/profiles', async () => [...service.listProfiles()].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0)));

  app.get('/api/chat/profile', async (request) => ({
    slug: cookieProfile(service, request) ?? service.resolveProfileSlug(null),
  }));

  app.post('/api/chat/profile', async (request, reply) => {
    const body = parseInput(SelectProfileRequest, bodyOf(request), 'request body');
    const slug = service.resolveProfileSlug(body.slug);
    reply.header(
      'set-cookie',
      serializeCookie(PROFILE_COOKIE, slug, { path: '/', sameSite: 'Lax', httpOnly: true, maxAgeS: COOKIE_MAX_AGE_S }),
    );
    return { slug };
  });
}
