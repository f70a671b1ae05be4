import { describe, expect, it } from 'vitest';
import { ConfigError, envName, FLAGS, HELP_TEXT, parseConfig, type Config } from './config';

const DEFAULTS: Config = {
  port: 8080,
  host: '127.0.0.1',
  db: './data/webchat.db',
  databaseUrl: null,
  dbInline: false,
  root: '',
  profiles: null,
  logLevel: 'info',
  bodyLimit: 1024 * 1024,
  maxPromptChars: 100_000,
  wsMaxMessage: 64 * 1024,
  wsSendBuffer: 8 * 1024 * 1024,
  queueDepth: 16,
  evictIdleMs: 300_000,
  commitWindowMs: 2,
  coalesceMs: 0,
  wsPingIntervalMs: 30_000,
  wsPongTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  publicUrl: null,
  allowedHosts: [],
  serveSourceMaps: false,
  metricsToken: null,
};

const problem = (argv: string[], env: Record<string, string> = {}): string => {
  try {
    parseConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
};

describe('parseConfig', () => {
  it('defaults', () => {
    expect(parseConfig([], {})).toEqual(DEFAULTS);
  });

  it('environment variables', () => {
    const c = parseConfig([], {
      WEBCHAT_PORT: '9000',
      WEBCHAT_HOST: '0.0.0.0',
      WEBCHAT_DB: ':memory:',
      WEBCHAT_ROOT: '/chat-ui/',
      WEBCHAT_PROFILES: './profiles.yaml',
      WEBCHAT_LOG_LEVEL: 'DEBUG',
      WEBCHAT_BODY_LIMIT: '2MiB',
      WEBCHAT_MAX_PROMPT_CHARS: '500',
      WEBCHAT_WS_MAX_MESSAGE: '32k',
      WEBCHAT_WS_SEND_BUFFER: '1048576',
      WEBCHAT_QUEUE_DEPTH: '4',
      WEBCHAT_EVICT_IDLE: '60',
      WEBCHAT_COMMIT_WINDOW_MS: '0',
      WEBCHAT_COALESCE_MS: '25',
      WEBCHAT_WS_PING_INTERVAL: '15',
      WEBCHAT_WS_PONG_TIMEOUT: '2.5',
      WEBCHAT_REQUEST_TIMEOUT: '0.5',
      WEBCHAT_PUBLIC_URL: 'https://Chat.Example.com:8443/ui',
      WEBCHAT_ALLOWED_HOSTS: ' a.example , .B.example,10.0.0.5,[::2],a.example ',
      WEBCHAT_SERVE_SOURCE_MAPS: 'yes',
      WEBCHAT_METRICS_TOKEN: ' s3cret ',
      UNRELATED: 'x',
    });
    expect(c).toEqual({
      port: 9000,
      host: '0.0.0.0',
      db: ':memory:',
      databaseUrl: null,
      dbInline: false,
      root: '/chat-ui',
      profiles: './profiles.yaml',
      logLevel: 'debug',
      bodyLimit: 2 * 1024 * 1024,
      maxPromptChars: 500,
      wsMaxMessage: 32 * 1024,
      wsSendBuffer: 1048576,
      queueDepth: 4,
      evictIdleMs: 60_000,
      commitWindowMs: 0,
      coalesceMs: 25,
      wsPingIntervalMs: 15_000,
      wsPongTimeoutMs: 2500,
      requestTimeoutMs: 500,
      publicUrl: 'https://chat.example.com:8443/ui',
      allowedHosts: ['a.example', '.b.example', '10.0.0.5', '[::2]'],
      serveSourceMaps: true,
      metricsToken: 's3cret',
    });
  });

  it('boolean flags are set by their name; the flag wins over the env var', () => {
    expect(parseConfig(['--serve-source-maps'], {}).serveSourceMaps).toBe(true);
    expect(parseConfig(['--serve-source-maps'], { WEBCHAT_SERVE_SOURCE_MAPS: 'false' }).serveSourceMaps).toBe(true);
    expect(parseConfig([], { WEBCHAT_SERVE_SOURCE_MAPS: '0' }).serveSourceMaps).toBe(false);
    expect(parseConfig(['--db-inline'], {}).dbInline).toBe(true);
    expect(parseConfig([], { WEBCHAT_DB_INLINE: 'on' }).dbInline).toBe(true);
  });

  it('--allowed-hosts takes * (any host)', () => {
    expect(parseConfig(['--allowed-hosts', '*'], {}).allowedHosts).toEqual(['*']);
  });

  it('flags override env; both --flag value and --flag=value', () => {
    const c = parseConfig(['--port', '7000', '--db=:memory:', '--root', '/'], { WEBCHAT_PORT: '9000', WEBCHAT_DB: 'x.db', WEBCHAT_ROOT: '/y' });
    expect([c.port, c.db, c.root]).toEqual([7000, ':memory:', '']);
  });

  it('empty env vars count as unset', () => {
    expect(parseConfig([], { WEBCHAT_PORT: '', WEBCHAT_PROFILES: '' })).toEqual(DEFAULTS);
  });

  it('port 0 (random) is allowed', () => {
    expect(parseConfig(['--port', '0'], {}).port).toBe(0);
  });

  it.each([
    [['--port', 'abc'], /--port: "abc" must be a non-negative integer/],
    [['--port', '70000'], /--port: "70000" must be a port number/],
    [['--root', 'x'], /--root: "x" must be empty or a path like \/x/],
    [['--root', '/a b'], /--root/],
    [['--log-level', 'loud'], /--log-level: "loud" must be one of fatal, error, warn, info, debug, trace, silent/],
    [['--body-limit', 'lots'], /--body-limit: "lots" must be a size in bytes/],
    [['--body-limit', '0'], /--body-limit: "0" must be at least 1 byte/],
    [['--queue-depth', '0'], /--queue-depth: "0" must be at least 1/],
    [['--max-prompt-chars', '-5'], /--max-prompt-chars/],
    [['--ws-ping-interval', '0'], /--ws-ping-interval: "0" must be greater than 0/],
    [['--evict-idle', '5m'], /--evict-idle: "5m" must be a number of seconds/],
    [['--commit-window-ms', '1.5'], /--commit-window-ms: "1.5" must be a non-negative integer/],
    [['--host', ''], /--host: "" must not be empty/],
    [['--request-timeout', '0'], /--request-timeout: "0" must be greater than 0/],
    [['--public-url', 'chat.example.com'], /--public-url: "chat.example.com" must be an http:\/\/ or https:\/\/ URL/],
    [['--public-url', 'ftp://x'], /--public-url/],
    [['--allowed-hosts', 'https://x.example'], /--allowed-hosts: .*not a host name/],
    [['--allowed-hosts', 'x.example:8080'], /--allowed-hosts: .*not a host name/],
    [['--serve-source-maps=yes'], /serve-source-maps/],
    [['--nope'], /Unknown option '--nope'.*--help/],
    [[], /WEBCHAT_SERVE_SOURCE_MAPS \(environment\): "maybe" must be true or false/, { WEBCHAT_SERVE_SOURCE_MAPS: 'maybe' }],
    [['--port'], /--port.*argument missing/],
    [['extra'], /unexpected argument "extra"/],
  ])('%j → clear message', (argv, message, env?: Record<string, string>) => {
    expect(problem(argv, env)).toMatch(message);
  });

  it('--database-url: WEBCHAT_DATABASE_URL, else DATABASE_URL; the flag wins; only postgres URLs; passwords never echoed', () => {
    const url = 'postgres://u:secret@db.example:5432/chat?schema=tenant_1';
    expect(parseConfig(['--database-url', url], {}).databaseUrl).toBe(url);
    expect(parseConfig([], { DATABASE_URL: 'postgresql://h/d' }).databaseUrl).toBe('postgresql://h/d');
    expect(parseConfig([], { DATABASE_URL: 'postgresql://h/d', WEBCHAT_DATABASE_URL: 'postgres://w/d' }).databaseUrl).toBe('postgres://w/d');
    expect(parseConfig(['--database-url', 'postgres://f/d'], { WEBCHAT_DATABASE_URL: 'postgres://w/d' }).databaseUrl).toBe('postgres://f/d');
    expect(parseConfig([], { DATABASE_URL: '' }).databaseUrl).toBeNull();
    expect(problem(['--database-url', 'mysql://u:secret@h/d'])).toMatch(/--database-url: "mysql:\/\/u:\*\*\*@h\/d" must be a postgres:\/\//);
    expect(problem(['--database-url', 'mysql://u:secret@h/d'])).not.toContain('secret');
    expect(problem([], { DATABASE_URL: 'postgres://h/d?schema=Bad-Name' })).toMatch(/DATABASE_URL \(environment\): .*schema "Bad-Name"/);
  });

  it('names the env var when the bad value came from the environment', () => {
    expect(problem([], { WEBCHAT_QUEUE_DEPTH: 'many' })).toMatch(/WEBCHAT_QUEUE_DEPTH \(environment\): "many" must be a non-negative integer/);
  });

  it('reports every problem at once', () => {
    const msg = problem(['--port', 'x', '--queue-depth', 'y']);
    expect(msg).toMatch(/--port/);
    expect(msg).toMatch(/--queue-depth/);
  });
});

describe('--help text', () => {
  it('lists every flag with its env var and default', () => {
    const help = HELP_TEXT();
    for (const f of FLAGS) {
      const line = help.split('\n').find((l) => l.includes(`--${f.flag} `) || l.trimEnd().includes(`--${f.flag}  `));
      expect(line, f.flag).toBeDefined();
      expect(line).toContain(envName(f.flag));
      expect(line).toContain(f.def === '' ? '(none)' : f.def);
    }
  });
});
