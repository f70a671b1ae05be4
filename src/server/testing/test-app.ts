import type { FastifyInstance } from 'fastify';
import type { ChatService } from '../../webchat/chat-service';
import { buildApp } from '../app';
import { parseConfig, type Config } from '../config';
import { createMetrics, type Metrics } from '../metrics';
import { fakeChatService, type FakeChatService } from './fake-chat-service';

export interface TestApp {
  app: FastifyInstance;
  service: FakeChatService;
  metrics: Metrics;
  config: Config;
}

/** An app on a fake service, silent logs, UI dir given (default: a directory that does not exist). */
export function testApp(opts: { argv?: string[]; service?: Partial<ChatService>; uiDir?: string } = {}): TestApp {
  const config = parseConfig(['--log-level', 'silent', ...(opts.argv ?? [])], {});
  const service = fakeChatService(opts.service);
  const metrics = createMetrics({ processMetrics: false });
  const app = buildApp({ config, service, metrics, uiDir: opts.uiDir ?? '/nonexistent/web/dist' });
  return { app, service, metrics, config };
}
