import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { ChatService } from '../webchat/chat-service';
import { attachRawRefusals, clientErrorHandler } from './client-errors';
import type { Config, LogLevel } from './config';
import { createHostCheck, createOriginCheck } from './host-check';
import { errorHandler, httpError, notFoundHandler, sendError } from './http-errors';
import { requireJsonWrites } from './json-writes';
import { createMethodGuard } from './method-guard';
import { lingerOnClose } from './lingering-close';
import { securityHeaderOptions } from './security-headers';
import type { Metrics } from './metrics';
import { chatRoutes } from './routes/chat';
import { conversationRoutes } from './routes/conversations';
import { debugRoutes } from './routes/debug';
import type { RouteDeps } from './routes/deps';
import { healthRoutes } from './routes/health';
import { profileRoutes } from './routes/profiles';
import { timelineRoutes } from './routes/timeline';
import { createSpaFallback, DEFAULT_UI_DIR, uiRoutes } from './routes/ui';
import { attachWebSocket, type WsUpgrade } from './ws-upgrade';

export interface BuildAppOptions {
  config: Config;
  service: ChatService;
  metrics: Metrics;
  /** Default: pino at `config.logLevel` (see `createLogger`). */
  logger?: FastifyBaseLogger;
  /** The built UI (default `web/dist` of this package). */
  uiDir?: string;
}

/** Never log secrets: auth headers, cookies, idempotency keys (bodies are never logged). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** JSON logs on stderr (stdout carries only the CLI's listening line). */
export function createLogger(level: LogLevel, destination: number = 2): Logger {
  return pino(
    { level, base: { service: 'moments-webchat' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.destination({ fd: destination, sync: true }),
  );
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The WebSocket endpoint bound to this app's HTTP server. */
    webchatWs: WsUpgrade;
  }
}

/**
 * Longest path parameter: a `conv_id` is at most 128 characters and a pause id 256, and a
 * client may percent-encode them (×3). Longer → 414 `uri_too_long`.
 */
export const MAX_PARAM_LENGTH = 1024;

/** How often Node looks for requests past `--request-timeout` (a fraction of it, at most 1 s). */
export const timeoutCheckInterval = (requestTimeoutMs: number) => Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 4)));

/**
 * The Fastify app: every route of protocol.md under `config.root`, the error table, `/ws`,
 * metrics and the UI. Not listening yet (`app.listen` or `app.inject`). Closing the app closes
 * its WebSockets (1001) but not the service: the caller owns it.
 */
export function buildApp(opts: BuildAppOptions): FastifyInstance {
  const { config, service, metrics } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const handleError = errorHandler({ bodyLimit: config.bodyLimit });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimit,
    genReqId: () => randomUUID(),
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    trustProxy: false,
    forceCloseConnections: 'idle',
    // Our own 503 (protocol error shape) while closing, instead of Fastify's raw one.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Slow clients: the whole request (headers and body) must arrive within --request-timeout,
    // else 408 (clientErrorHandler). Only the request is timed: a handler's own time, idle
    // keep-alive sockets (keepAliveTimeout) and WebSockets (after the upgrade) are not.
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: timeoutCheckInterval(config.requestTimeoutMs),
      // A missing Host is refused by the Host check, in the error shape (Node: empty 400).
      requireHostHeader: false,
    },
    // Errors the router raises before any route (bad URL encoding, over-long parameter).
    frameworkErrors: (err, request, reply) => handleError.call(app, err, request, reply),
    clientErrorHandler: clientErrorHandler({ requestTimeoutMs: config.requestTimeoutMs, logger }),
  }) as unknown as FastifyInstance;
  attachRawRefusals(app.server);

  // Only application/json bodies (Fastify would also take text/plain).
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler(handleError);
  const uiDir = opts.uiDir ?? DEFAULT_UI_DIR;
  app.setNotFoundHandler(notFoundHandler(createSpaFallback({ root: config.root, uiDir })));

  const hostCheck = createHostCheck(config);
  app.addHook('onRequest', async (request) => {
    const refusal = hostCheck(request.headers.host);
    if (refusal) throw refusal;
  });
  let closing = false;
  app.addHook('onRequest', async () => {
    if (closing) throw httpError('not_ready', 'server is shutting down');
  });
  app.addHook('onRequest', requireJsonWrites);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // an answer before the body was read: let the client finish sending and read it
    if (reply.statusCode === 413) lingerOnClose(request.raw.socket);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  app.register(helmet, securityHeaderOptions({ publicUrl: config.publicUrl }));

  const guard = createMethodGuard();
  guard.collect(app);

  const deps: RouteDeps = { service, config, metrics };
  const prefix = config.root;
  app.register(chatRoutes, { ...deps, prefix });
  app.register(conversationRoutes, { ...deps, prefix });
  app.register(debugRoutes, { ...deps, prefix });
  app.register(timelineRoutes, { ...deps, prefix });
  app.register(profileRoutes, { ...deps, prefix });
  app.register(healthRoutes, { ...deps, prefix });
  app.register(
    async (ws) => {
      // A plain GET of the WebSocket path (no Upgrade header) reaches Fastify.
      ws.get('/ws', async (_request, reply) => sendError(reply, 'bad_request', 'this endpoint needs a WebSocket upgrade'));
    },
    { prefix },
  );
  app.register(uiRoutes, { root: config.root, uiDir, prefix, serveSourceMaps: config.serveSourceMaps });
  app.register(guard.plugin);

  const wsUpgrade = attachWebSocket(app.server, {
    root: config.root,
    service,
    metrics,
    logger: app.log,
    maxMessageBytes: config.wsMaxMessage,
    pingIntervalMs: config.wsPingIntervalMs,
    pongTimeoutMs: config.wsPongTimeoutMs,
    hostCheck,
    originCheck: createOriginCheck(config),
  });
  app.decorate('webchatWs', wsUpgrade);
  app.addHook('preClose', async () => {
    closing = true;
    await wsUpgrade.close();
  });
  return app;
}
