import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * Server configuration: every value comes from a CLI flag, else its `WEBCHAT_*` environment
 * variable, else its default. `parseConfig` is pure (argv and env are arguments) and throws a
 * `ConfigError` listing every bad value with the flag or variable it came from.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** SQLite file path, or `:memory:` (unused when `databaseUrl` is set). */
  db: string;
  /** PostgreSQL URL (`postgres://…`, optional `?schema=<name>`); set → the PostgreSQL store instead of SQLite. */
  databaseUrl: string | null;
  /** Run SQLite on the event-loop thread instead of its worker thread. */
  dbInline: boolean;
  /** Route prefix: `""` or `/x` (leading slash, no trailing slash). */
  root: string;
  /** Profiles file (YAML or JSON); `null` = built-in profiles only. */
  profiles: string | null;
  logLevel: LogLevel;
  /** Request body limit in bytes. */
  bodyLimit: number;
  /** Prompt limit in characters (code points). */
  maxPromptChars: number;
  /** Largest incoming WebSocket message in bytes; larger → close 1009. */
  wsMaxMessage: number;
  /** Per-socket send buffer in bytes (bufferedAmount + queue); beyond → close 1013. */
  wsSendBuffer: number;
  /** Queued prompts per conversation; beyond → 429 queue_full. */
  queueDepth: number;
  /** Unload idle conversations after this long. */
  evictIdleMs: number;
  /** Group-commit window. */
  commitWindowMs: number;
  /** Delta coalescing window (0 = off). */
  coalesceMs: number;
  /** WebSocket protocol ping interval. */
  wsPingIntervalMs: number;
  /** Terminate a socket that has not answered a ping within this long. */
  wsPongTimeoutMs: number;
  /** A request's headers and body must arrive within this long; slower clients get 408. */
  requestTimeoutMs: number;
  /** The URL users reach the server at (its host is accepted in `Host`); `null` = not set. */
  publicUrl: string | null;
  /** More accepted `Host` names (lower case, no port; `.example.com` = it and its subdomains; `*` = any). */
  allowedHosts: string[];
  /** Serve the UI's `*.map` source maps (off: 404). */
  serveSourceMaps: boolean;
  /** Bearer token for `/metrics`; `null` = `/metrics` answers loopback clients only. */
  metricsToken: string | null;
}

type Kind =
  | 'port'
  | 'host'
  | 'string'
  | 'optionalPath'
  | 'optionalString'
  | 'root'
  | 'logLevel'
  | 'bytes'
  | 'count'
  | 'seconds'
  | 'millis'
  | 'url'
  | 'databaseUrl'
  | 'hostList'
  | 'boolean';

interface FlagSpec {
  flag: string;
  key: keyof Config;
  kind: Kind;
  /** Default as the user would type it (shown in --help). */
  def: string;
  help: string;
  /** A second environment variable read when the WEBCHAT_* one is unset (e.g. DATABASE_URL). */
  fallbackEnv?: string;
}

/** The single flag table: parsing, env names and `--help` all derive from it. */
export const FLAGS: readonly FlagSpec[] = [
  { flag: 'port', key: 'port', kind: 'port', def: '8080', help: 'TCP port to listen on (0 = random)' },
  { flag: 'host', key: 'host', kind: 'host', def: '127.0.0.1', help: 'interface to bind (0.0.0.0 for all)' },
  { flag: 'db', key: 'db', kind: 'string', def: './data/webchat.db', help: 'SQLite database file, or :memory: (ignored with --database-url)' },
  {
    flag: 'database-url',
    key: 'databaseUrl',
    kind: 'databaseUrl',
    def: '',
    help: 'PostgreSQL URL (postgres://user:pass@host:5432/db, optional ?schema=name); set: PostgreSQL instead of SQLite (env fallback: DATABASE_URL)',
    fallbackEnv: 'DATABASE_URL',
  },
  { flag: 'db-inline', key: 'dbInline', kind: 'boolean', def: 'false', help: 'run SQLite on the event loop instead of its worker thread (commits then block the loop)' },
  { flag: 'root', key: 'root', kind: 'root', def: '', help: 'route prefix, e.g. /chat-ui (default: none)' },
  { flag: 'profiles', key: 'profiles', kind: 'optionalPath', def: '', help: 'profiles file (YAML or JSON); default: built-in demo profile' },
  { flag: 'log-level', key: 'logLevel', kind: 'logLevel', def: 'info', help: `log level: ${LOG_LEVELS.join('|')}` },
  { flag: 'body-limit', key: 'bodyLimit', kind: 'bytes', def: '1MiB', help: 'max HTTP request body (bytes; K/KiB, M/MiB suffixes allowed)' },
  { flag: 'max-prompt-chars', key: 'maxPromptChars', kind: 'count', def: '100000', help: 'max prompt length in characters' },
  { flag: 'ws-max-message', key: 'wsMaxMessage', kind: 'bytes', def: '64KiB', help: 'max incoming WebSocket message (bytes); larger closes 1009' },
  { flag: 'ws-send-buffer', key: 'wsSendBuffer', kind: 'bytes', def: '8MiB', help: 'per-socket send buffer (bytes); beyond it the socket closes 1013' },
  { flag: 'queue-depth', key: 'queueDepth', kind: 'count', def: '16', help: 'max queued prompts per conversation' },
  { flag: 'evict-idle', key: 'evictIdleMs', kind: 'seconds', def: '300', help: 'unload idle conversations after this many seconds' },
  { flag: 'commit-window-ms', key: 'commitWindowMs', kind: 'millis', def: '2', help: 'group-commit window in milliseconds' },
  { flag: 'coalesce-ms', key: 'coalesceMs', kind: 'millis', def: '0', help: 'merge text deltas of one message produced within this many ms into one frame (0 = off)' },
  { flag: 'ws-ping-interval', key: 'wsPingIntervalMs', kind: 'seconds', def: '30', help: 'WebSocket ping interval in seconds' },
  { flag: 'ws-pong-timeout', key: 'wsPongTimeoutMs', kind: 'seconds', def: '10', help: 'terminate a socket with no pong within this many seconds' },
  { flag: 'request-timeout', key: 'requestTimeoutMs', kind: 'seconds', def: '30', help: 'a request (headers and body) must arrive within this many seconds, else 408' },
  { flag: 'public-url', key: 'publicUrl', kind: 'url', def: '', help: 'URL users reach the server at, e.g. https://chat.example.com (its host is allowed)' },
  { flag: 'allowed-hosts', key: 'allowedHosts', kind: 'hostList', def: '', help: 'more Host names to accept, comma-separated (.example.com = subdomains too; * = any)' },
  { flag: 'metrics-token', key: 'metricsToken', kind: 'optionalString', def: '', help: 'bearer token for /metrics (default: /metrics answers loopback clients only); prefer the env var' },
  { flag: 'serve-source-maps', key: 'serveSourceMaps', kind: 'boolean', def: 'false', help: "serve the UI's source maps (*.map); off: 404" },
];

/** `--ws-max-message` → `WEBCHAT_WS_MAX_MESSAGE`. */
export const envName = (flag: string): string => `WEBCHAT_${flag.toUpperCase().replace(/-/g, '_')}`;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const intString = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a non-negative integer${what}`)
    .transform(Number)
    .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER, 'is too large'));

const bytes = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(s);
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a size in bytes, e.g. 65536, 64KiB or 1MiB' });
      return z.NEVER;
    }
    return Math.floor(Number(m[1]) * unit);
  })
  .pipe(z.number().int().min(1, 'must be at least 1 byte').max(2 ** 31, 'must be at most 2 GiB'));

const seconds = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds, e.g. 30 or 0.5')
  .transform((s) => Math.round(Number(s) * 1000))
  .pipe(z.number().int().min(1, 'must be greater than 0').max(2 ** 31 - 1, 'is too large'));

/** One `Host` name as `--allowed-hosts` lists it: a name, an IPv4 address or a bracketed IPv6 one. */
const HOST_NAME = /^(\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/;

const hostList = z
  .string()
  .transform((s, ctx) => {
    const names = s
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n !== '');
    for (const n of names) {
      if (n !== '*' && !HOST_NAME.test(n)) {
        ctx.addIssue({ code: 'custom', message: `has "${n}", which is not a host name (no scheme, port or path; e.g. chat.example.com or .example.com)` });
        return z.NEVER;
      }
    }
    return [...new Set(names)];
  });

/** Parses a URL of one of `protocols` with a host (`''` → null); otherwise the issue `message`. */
const parseUrl = (s: string, ctx: z.RefinementCtx, protocols: readonly string[], message: string): URL | null | typeof z.NEVER => {
  if (s === '') return null;
  let u: URL | null = null;
  try {
    u = new URL(s);
  } catch {
    /* reported below */
  }
  if (!u || !protocols.includes(u.protocol) || u.hostname === '') {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  return u;
};

const url = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const u = parseUrl(s, ctx, ['http:', 'https:'], 'must be an http:// or https:// URL, e.g. https://chat.example.com');
    return u instanceof URL ? u.href : u;
  });

/** A PostgreSQL schema name we accept in `?schema=` (lower-case, no quoting needed). */
const PG_SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

const databaseUrl = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const u = parseUrl(s, ctx, ['postgres:', 'postgresql:'], 'must be a postgres:// or postgresql:// URL, e.g. postgres://user@localhost:5432/webchat');
    if (!(u instanceof URL)) return u;
    const schema = u.searchParams.get('schema');
    if (schema !== null && !PG_SCHEMA.test(schema)) {
      ctx.addIssue({ code: 'custom', message: `has schema "${schema}": use lower-case letters, digits and _ (at most 63, not starting with a digit)` });
      return z.NEVER;
    }
    return s;
  });

/** A URL as an error message may show it: the password replaced by `***`. */
const redactUrl = (raw: string): string => {
  try {
    const u = new URL(raw.trim());
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return raw.replace(/:[^:@/]*@/, ':***@');
  }
};

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s, ctx) => {
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false (1/0, yes/no, on/off)' });
    return z.NEVER;
  });

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? null : s));

const SCHEMAS: Record<Kind, z.ZodType<unknown, string>> = {
  port: intString('').pipe(z.number().max(65535, 'must be a port number 0..65535')),
  host: z.string().trim().min(1, 'must not be empty').regex(/^[A-Za-z0-9.:_%[\]-]+$/, 'must be a host name or IP address'),
  string: z.string().trim().min(1, 'must not be empty'),
  optionalPath: optionalString,
  optionalString,
  root: z
    .string()
    .trim()
    .transform((s) => s.replace(/\/+$/, ''))
    .pipe(
      z
        .string()
        .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must be empty or a path like /x or /x/y (letters, digits, . _ ~ -)'),
    ),
  logLevel: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  bytes,
  count: intString('').pipe(z.number().min(1, 'must be at least 1')),
  seconds,
  millis: intString(' of milliseconds').pipe(z.number().max(60_000, 'must be at most 60000')),
  url,
  databaseUrl,
  hostList,
  boolean,
};

export const HELP_TEXT = (): string => {
  const rows = FLAGS.map((f) => [f.kind === 'boolean' ? `--${f.flag}` : `--${f.flag} <value>`, envName(f.flag), f.def === '' ? '(none)' : f.def, f.help]);
  const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length));
  const [w0, w1, w2] = [width(0), width(1), width(2)];
  return [
    'Usage: moments-webchat [serve] [flags]',
    '',
    'Starts the Moments Webchat server (HTTP + WebSocket + UI). Every flag can also be set by',
    'its environment variable; a flag wins over the variable.',
    '',
    `  ${'flag'.padEnd(w0)}  ${'env'.padEnd(w1)}  ${'default'.padEnd(w2)}  description`,
    ...rows.map((r) => `  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]!.padEnd(w2)}  ${r[3]}`),
    `  ${'-h, --help'.padEnd(w0)}  ${''.padEnd(w1)}  ${''.padEnd(w2)}  print this help`,
    '',
  ].join('\n');
};

/**
 * Parses flags (`--port 9000` or `--port=9000`; a boolean flag is set by its name alone) and
 * `WEBCHAT_*` variables (a boolean one: true/false, 1/0, yes/no, on/off). Empty variables
 * count as unset. Throws `ConfigError` (all problems at once) on unknown flags, missing flag
 * values, positionals or invalid values.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  const options = Object.fromEntries(FLAGS.map((f) => [f.flag, { type: f.kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]));
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }));
  } catch (e) {
    throw new ConfigError([`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')} (see --help)`]);
  }
  const problems: string[] = [];
  if (positionals.length > 0) problems.push(`unexpected argument "${positionals[0]}" (see --help)`);

  const out: Record<string, unknown> = {};
  for (const f of FLAGS) {
    const name = envName(f.flag);
    const fromFlag = values[f.flag];
    const fromEnv = env[name] !== undefined && env[name] !== '' ? env[name] : f.fallbackEnv !== undefined ? env[f.fallbackEnv] : undefined;
    const envSource = env[name] !== undefined && env[name] !== '' ? name : (f.fallbackEnv ?? name);
    let raw: string;
    let source: string;
    if (typeof fromFlag === 'string' || typeof fromFlag === 'boolean') {
      raw = String(fromFlag);
      source = `--${f.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw = fromEnv;
      source = `${envSource} (environment)`;
    } else {
      raw = f.def;
      source = `default of --${f.flag}`;
    }
    const parsed = SCHEMAS[f.kind].safeParse(raw);
    if (parsed.success) out[f.key] = parsed.data;
    else {
      const shown = f.kind === 'databaseUrl' ? redactUrl(raw) : raw;
      problems.push(`${source}: "${shown}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as unknown as Config;
}

/** The defaults (what `parseConfig([], {})` returns). */
export const defaultConfig = (): Config => parseConfig([], {});
