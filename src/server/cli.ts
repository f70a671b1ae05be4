import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ChatService } from '../webchat/chat-service';
import type { ChatServiceOptions } from '../webchat/create-chat-service';
import { buildApp, createLogger } from './app';
import { ConfigError, HELP_TEXT, parseConfig, type Config } from './config';
import { createMetrics, type Metrics } from './metrics';

/**
 * `moments-webchat [serve] [flags]` (= `npm start`): parse the configuration, build the chat
 * service, listen, print one line, and shut down gracefully on SIGINT/SIGTERM.
 */

/** The runtime factory (`createChatService` of `src/webchat/create-chat-service.ts`). */
export type ChatServiceFactory = (opts: ChatServiceOptions) => Promise<ChatService>;

/** What the configuration gives the runtime factory. */
export const serviceOptions = (config: Config, metrics: Metrics, logger: Logger): ChatServiceOptions => ({
  dbPath: config.db,
  databaseUrl: config.databaseUrl,
  dbThread: !config.dbInline,
  profilesPath: config.profiles,
  queueDepth: config.queueDepth,
  wsSendBufferBytes: config.wsSendBuffer,
  evictIdleMs: config.evictIdleMs,
  commitWindowMs: config.commitWindowMs,
  coalesceMs: config.coalesceMs,
  metrics,
  logger,
});

export interface MainDeps {
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Default: `createChatService` of `src/webchat/create-chat-service.ts`. */
  createChatService?: ChatServiceFactory;
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  /** Called with the running server once it listens (tests). */
  onListening?: (server: RunningServer) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  defaultProfile: string;
  service: ChatService;
  app: ReturnType<typeof buildApp>;
  /** Graceful stop: `service.close()` (runs end, sockets 1001, store flushed), then the app. Idempotent. */
  close(): Promise<void>;
}

async function defaultFactory(): Promise<ChatServiceFactory> {
  // Imported lazily: the runtime (SQLite, providers) loads only when the server really starts.
  const { createChatService } = await import('../webchat/create-chat-service');
  return createChatService;
}

const hostForUrl = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

export async function serve(config: Config, deps: MainDeps = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const metrics = createMetrics();
  const factory = deps.createChatService ?? (await defaultFactory());
  const service = await factory(serviceOptions(config, metrics, logger));
  const app = buildApp({ config, service, metrics, logger });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await service.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  const defaultProfile = service.listProfiles().find((p) => p.is_default)?.slug ?? service.resolveProfileSlug(null);
  let closing: Promise<void> | null = null;
  return {
    url: `http://${hostForUrl(config.host)}:${port}${config.root}/`,
    port,
    defaultProfile,
    service,
    app,
    close: () =>
      (closing ??= (async () => {
        try {
          await service.close();
        } finally {
          await app.close();
        }
      })()),
  };
}

const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Bound beyond loopback with only loopback `Host` names allowed: other machines would reach
 * the server and get 403. Returns the note to print, or null.
 */
export function hostNote(config: Config): string | null {
  if (LOOPBACK_BINDS.has(config.host) || config.publicUrl !== null || config.allowedHosts.length > 0) return null;
  return (
    `moments-webchat: note: listening on ${config.host}, but only loopback Host names (localhost, 127.0.0.1, [::1]) are served; ` +
    'add the names or addresses clients use with --allowed-hosts (or set --public-url)\n'
  );
}

const describeError = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return `address already in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}); pick another --port`;
  if (e?.code === 'EACCES') return `permission denied: ${e.message}`;
  return e instanceof Error ? e.message : String(err);
};

/** Returns the exit code for failures and `--help`; `serve` resolves 0 once listening. */
export async function main(argv: readonly string[], deps: MainDeps = {}): Promise<number> {
  const out = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') {
    out(HELP_TEXT());
    return 0;
  }
  const command = args[0] !== undefined && !args[0].startsWith('-') ? args.shift()! : 'serve';
  if (command !== 'serve') {
    err(`moments-webchat: unknown command "${command}" (commands: serve)\nRun moments-webchat --help for usage.\n`);
    return 1;
  }
  let config: Config;
  try {
    config = parseConfig(args, deps.env ?? process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`moments-webchat: ${e.message}\nRun moments-webchat --help for all flags.\n`);
    return 1;
  }

  let server: RunningServer;
  try {
    server = await serve(config, deps);
  } catch (e) {
    err(`moments-webchat: cannot start: ${describeError(e)}\n`);
    return 1;
  }
  out(`moments-webchat listening on ${server.url} (profile: ${server.defaultProfile})\n`);
  const note = hostNote(config);
  if (note) err(note);

  if (deps.handleSignals ?? true) {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        err(`moments-webchat: second ${signal}, exiting now\n`);
        process.exit(1);
      }
      signalled = true;
      server.app.log.info({ signal }, 'shutting down');
      server.close().then(
        () => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          process.exitCode = 0;
        },
        (e: unknown) => {
          err(`moments-webchat: shutdown failed: ${describeError(e)}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  deps.onListening?.(server);
  return 0;
}
