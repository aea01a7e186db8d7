/** The zod schema of the YAML config file, field by field, with the messages an operator reads. */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { MATCHER_KEYS } from '../core/matchers.ts';
import { ALERT_KINDS } from '../core/model.ts';
import { LOG_LEVELS } from '../log-levels.ts';
import { parseHostPort, parseRedisUrl } from '../redis/url.ts';
import { DEFAULT_MAX_EXPORTED_TASKS } from '../metrics/limits.ts';
import { cronProblem } from './cron.ts';
import { compileGlob, GlobError } from '../core/glob.ts';
import { MAX_RETRY_DELAY_MS } from '../notify/retry-policy.ts';
import { DurationError, formatDuration, MAX_DURATION_MS, MAX_TIMER_MS, parseDuration } from './duration.ts';
import { CaFileError, caFileProblem, readCaFile } from './pem-file.ts';
import { quoted } from './quoted.ts';
import { parseSize, SizeError } from './size.ts';
import { smtpUrlProblem } from './smtp-url.ts';
import { blankMappingAsAbsent, loadSystemUserMaterial } from './system-user.ts';
import { canonicalTimeZone } from './time-zone.ts';

/**
 * The shape of the YAML file, field by field. Relations between fields (credentials, every vs cron,
 * unique names, ...) are checked in relations.ts so that they are reported even when some other
 * field is wrong; zod skips an object's refinements once a child failed.
 */

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/**
 * A duration of at least `min` and at most `max` ms. Keys that set a timer pass MAX_TIMER_MS with `why`:
 * a longer Node.js timer fires at once, so such a value would validate and then fail every time.
 */
function duration(min = 0, max = MAX_DURATION_MS, why = '') {
  return z
    .string({
      error: (iss) =>
        typeof iss.input === 'number'
          ? `durations need a unit, e.g. 15m (got the bare number ${iss.input})`
          : `expected a duration string like 15m, got ${describeValue(iss.input)}`,
    })
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms < min) {
          ctx.addIssue({ code: 'custom', message: `must be at least ${formatDuration(min)}` });
          return z.NEVER;
        }
        if (!(ms <= max)) {
          ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(max)}${why}` });
          return z.NEVER;
        }
        return ms;
      } catch (error) {
        if (!(error instanceof DurationError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.marked });
        return z.NEVER;
      }
    });
}

const TIMER_LIMIT = ' (the longest wait a timer can take)';

/** Whole numbers; a string of digits (e.g. from ${PORT}) counts as its number. */
function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number()
      // Not .int(): it also reports "at most 2^53-1" next to `max` for a huge number.
      .refine(Number.isInteger, { error: (iss) => `expected a whole number, got number ${String(iss.input)}` })
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );
}

/** true/false; the strings "true"/"false" (e.g. from ${MAIL_ENABLED}) count too. */
function flag() {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim().toLowerCase();
    return text === 'true' ? true : text === 'false' ? false : value;
  }, z.boolean());
}

const nonEmpty = () => z.string().trim().min(1, 'must not be empty');

function urlProblem(text: string, protocols: readonly string[]): boolean {
  try {
    const parsed = new URL(text);
    return !protocols.includes(parsed.protocol) || parsed.hostname === '';
  } catch {
    return true;
  }
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * A URL with one of `protocols`; the value is never echoed in messages, it may carry a password.
 * `base`: paths are appended to it, so a query or fragment would end up in front of them.
 */
function url(protocols: readonly string[], what: string, base = false) {
  return z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    if (CONTROL_CHARACTERS.test(trimmed)) {
      // The URL parser would silently drop a line break or tab; the value must be what it says.
      ctx.addIssue({ code: 'custom', message: 'must not contain line breaks, tabs or other control characters' });
      return z.NEVER;
    }
    if (urlProblem(trimmed, protocols)) {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    }
    if (new URL(trimmed).port === '0') {
      ctx.addIssue({ code: 'custom', message: `has port 0, which nothing can be reached on; it must be ${what}` });
      return z.NEVER;
    }
    if (base && /[?#]/.test(trimmed)) {
      ctx.addIssue({ code: 'custom', message: `must not have a query (?) or fragment (#): paths are appended to it; it must be ${what}` });
      return z.NEVER;
    }
    return trimmed;
  });
}

/** Empty strings count as absent, so `key: ${VAR:-}` can leave an optional value out. */
function blankAsAbsent() {
  return z
    .string()
    .optional()
    .transform((text) => (text === undefined || text.trim() === '' ? undefined : text));
}

const timeZone = z.string().transform((zone, ctx) => {
  const canonical = canonicalTimeZone(zone);
  if (canonical === undefined) {
    ctx.addIssue({ code: 'custom', message: `${quoted(zone)} is not an IANA time zone (e.g. UTC, Europe/Oslo)` });
    return z.NEVER;
  }
  return canonical;
});

const ADDRESS = /^(?:(?:"[^"]*"|[^<>"]*?)\s*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@"]+@[^\s<>@]+)$/;
const address = z
  .string()
  .trim()
  // A line break in a name would start a header of its own (Bcc: ...) in every mail.
  .refine((text) => !CONTROL_CHARACTERS.test(text), 'must not contain line breaks or other control characters')
  .regex(ADDRESS, 'must be an email address (user@example.com or "Name <user@example.com>")');
/** A bare mailbox (user@example.com): the account an OAuth2 token belongs to, sent in the XOAUTH2 string. */
const mailbox = nonEmpty()
  .refine((text) => !CONTROL_CHARACTERS.test(text), 'must not contain line breaks or other control characters')
  .regex(/^[^\s<>@"]+@[^\s<>@"]+$/, 'must be a mailbox address (user@example.com, the account the token is for; no display name)');
/** A list of addresses; a single address is accepted as a list of one. */
const addresses = z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(address));

const cron = z.string().superRefine((expression, ctx) => {
  const problem = cronProblem(expression);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A 100,000-task answer is about 70 MB (~700 bytes per task); 256 MiB leaves room for ~380,000 tasks, several
 * times a large tenant, while still stopping an endless or runaway answer long before memory runs out.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** A byte size: whole bytes, or text with a unit ("256MiB", "500MB"). */
function size(min: number) {
  return z
    .union([z.number(), z.string()], { error: (iss) => `expected a size such as 256MiB, got ${describeValue(iss.input)}` })
    .transform((value, ctx) => {
      try {
        const bytes = parseSize(value);
        if (bytes < min) {
          ctx.addIssue({ code: 'custom', message: `must be at least ${min} bytes` });
          return z.NEVER;
        }
        return bytes;
      } catch (error) {
        if (!(error instanceof SizeError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.marked });
        return z.NEVER;
      }
    });
}

/** A PEM file of CA certificates, read at load time so a missing or damaged file stops the start. */
const caFile = nonEmpty().superRefine((path, ctx) => {
  const problem = caFileProblem(path);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const tlsShape = {
  ca: caFile.optional(),
};

export const systemUserShape = {
  token: z.string().trim().min(1, "must not be empty (the tenant's system user token)"),
  privateKey: blankAsAbsent(),
  privateKeyFile: blankAsAbsent(),
  loginUrl: blankAsAbsent().pipe(
    url(['http:', 'https:'], 'an http:// or https:// URL, e.g. https://online.superoffice.com/login', true)
      .transform((text) => text.replace(/\/+$/, ''))
      .optional(),
  ),
  jwtCertificate: blankAsAbsent(),
};

export const superofficeShape = {
  url: url(
    ['http:', 'https:'],
    'an http:// or https:// URL (the installation base, e.g. https://sod.superoffice.com/Cust12345)',
    true,
  ).transform((text) => text.replace(/\/+$/, '')),
  applicationToken: z.string().optional(),
  ticket: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  systemUser: z.preprocess(blankMappingAsAbsent, z.strictObject(systemUserShape).transform(loadSystemUserMaterial).optional()),
  tenantStatusUrl: blankAsAbsent().pipe(
    url(['http:', 'https:'], 'an http:// or https:// URL, e.g. https://online.superoffice.com/api/state', true)
      .transform((text) => text.replace(/\/+$/, ''))
      .optional(),
  ),
  timeout: duration(1, MAX_TIMER_MS, TIMER_LIMIT).prefault('30s'),
  associatesPerRequest: integer(1).prefault(100),
  maxConcurrentRequests: integer(1).prefault(2),
  timeZone: timeZone.prefault('UTC'),
  maxResponseBytes: size(64 * 1024).prefault(DEFAULT_MAX_RESPONSE_BYTES),
  tls: z.strictObject(tlsShape).optional(),
};

/** redis:// or rediss:// with a numeric db, valid percent-encoding and a port in range; never echoed (password). */
const redisUrl = z.string().transform((text, ctx) => {
  const parsed = parseRedisUrl(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return text.trim();
});

const redisNode = z.string().transform((text, ctx) => {
  const parsed = parseHostPort(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.node;
});
const redisNodes = z.array(redisNode).min(1, 'must list at least one host:port');

/** A PEM file of CA certificates, read (and checked) at load and kept: Redis connections are made and remade often. */
const loadedCaFile = nonEmpty().transform((path, ctx) => {
  try {
    return { caFile: path, ca: readCaFile(path) };
  } catch (error) {
    if (!(error instanceof CaFileError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

export const redisSentinelShape = {
  name: nonEmpty(),
  nodes: redisNodes,
  username: blankAsAbsent(),
  password: blankAsAbsent(),
  sentinelPassword: blankAsAbsent(),
  tls: flag().prefault(false),
};

export const redisClusterShape = {
  nodes: redisNodes,
  username: blankAsAbsent(),
  password: blankAsAbsent(),
  tls: flag().prefault(false),
};

export const redisTlsShape = {
  ca: loadedCaFile,
};

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export const redisShape = {
  // Default (DEFAULT_REDIS_URL) applied in load.ts, only when neither sentinel nor cluster is given.
  url: blankAsAbsent().pipe(redisUrl.optional()),
  sentinel: z.strictObject(redisSentinelShape).optional(),
  cluster: z.strictObject(redisClusterShape).optional(),
  tls: z.strictObject(redisTlsShape).optional(),
  prefix: nonEmpty()
    .regex(/^[^\s{}]+$/, 'must not contain spaces or braces (BullMQ adds its own {hash tags})')
    .prefault('batchwatch'),
};

/** SuperOffice ids are 32-bit integers; a larger one would validate here and then fault every call. */
export const MAX_ASSOCIATE_ID = 2_147_483_647;
const associateList = z.array(integer(0, MAX_ASSOCIATE_ID)).min(1, 'must list at least one associate id');

/** A list of associate ids, or `all` (every user task; see relations.ts for the rules around it). */
const associates = z.unknown().transform((value, ctx): number[] | 'all' => {
  if (typeof value === 'string' && value.trim().toLowerCase() === 'all') return 'all';
  if (typeof value === 'string') {
    ctx.addIssue({ code: 'custom', message: `must be a list of associate ids or "all", got ${quoted(value)}` });
    return z.NEVER;
  }
  const list = associateList.safeParse(value, { error: errorMap });
  if (list.success) return list.data;
  for (const problem of list.error.issues)
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path.filter((p) => typeof p !== 'symbol') });
  return z.NEVER;
});

export const scheduleShape = {
  name: z.string().regex(/^[a-z0-9-]+$/, 'use lower-case letters, digits and "-" only'),
  associates,
  includeSystemTasks: flag().optional(),
  every: duration(1000, MAX_TIMER_MS, TIMER_LIMIT).optional(),
  cron: cron.optional(),
  tz: timeZone.optional(),
  mailTo: addresses.optional(),
};

/** A task-name glob (rules.tasks[].name, maintenance[].match.task), compiled at load so a glob that cannot be used names its key instead of matching nothing. */
const taskGlob = nonEmpty().superRefine((glob, ctx) => {
  try {
    compileGlob(glob);
  } catch (error) {
    if (!(error instanceof GlobError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
});

export const taskRuleShape = {
  name: taskGlob,
  ignore: flag().prefault(false),
  stallAfter: duration().optional(),
  queuedTimeout: duration().optional(),
};

export const rulesShape = {
  stallAfter: duration().prefault('15m'),
  queuedTimeout: duration().prefault('10m'),
  firstSeenWindow: duration().prefault('1h'),
  unreachableAfter: integer(1).prefault(3),
  repeatInterval: duration().prefault('4h'),
  sendResolved: flag().prefault(true),
  tasks: z.array(z.strictObject(taskRuleShape)).prefault([]),
};

/** mail.smtp, fully checked (scheme, port, percent-encoding, options); the value is never echoed, it may carry a password. */
const smtpUrl = z.string().transform((text, ctx) => {
  const problem = smtpUrlProblem(text);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return text.trim();
});

export const mailOAuth2Shape = {
  user: mailbox,
  tokenUrl: url(
    ['https:', 'http:'],
    'an https:// URL (the token endpoint, e.g. https://login.microsoftonline.com/TENANT/oauth2/v2.0/token)',
  ),
  clientId: nonEmpty(),
  clientSecret: nonEmpty(),
  scope: blankAsAbsent().refine(
    (text) => text === undefined || !CONTROL_CHARACTERS.test(text),
    'must not contain line breaks or other control characters',
  ),
  refreshToken: blankAsAbsent(),
};

export const mailTlsShape = {
  ca: caFile,
};

export const mailShape = {
  enabled: flag().prefault(true),
  smtp: blankAsAbsent().pipe(smtpUrl.optional()),
  oauth2: z.strictObject(mailOAuth2Shape).optional(),
  tls: z.strictObject(mailTlsShape).optional(),
  from: blankAsAbsent().pipe(address.optional()),
  to: addresses.optional(),
  retryDelay: duration(1, MAX_RETRY_DELAY_MS, ' (retries back off from it, doubling, up to that far apart)').prefault('30s'),
  retryFor: duration().prefault('24h'),
};

/** Shorter bearer tokens can be guessed; batchwatch never generates one, the operator does (e.g. openssl rand -hex 32). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** An address to listen on: an IPv4 or IPv6 address ([::1] or ::1) or a host name. */
const listenHost = nonEmpty()
  .transform((text) => text.replace(/^\[(.*)\]$/, '$1'))
  .refine((host) => isIP(host) !== 0 || HOSTNAME.test(host), 'must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name');

export const httpShape = {
  host: listenHost.prefault('0.0.0.0'),
  port: integer(0, 65_535).prefault(9464),
  adminToken: blankAsAbsent().pipe(
    z
      .string()
      .refine(
        (token) => token.trim().length >= MIN_ADMIN_TOKEN_LENGTH,
        `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. from: openssl rand -hex 32)`,
      )
      .refine((token) => !/\s/.test(token.trim()), 'must not contain spaces (it is sent as "Authorization: Bearer TOKEN")')
      .transform((token) => token.trim())
      .optional(),
  ),
};

/** The same matchers as silences (src/core/matchers.ts); all optional, ANDed; none = every alert. */
export const matchShape = {
  task: taskGlob.optional(),
  taskId: integer(1).optional(),
  associate: integer(0).optional(),
  schedule: nonEmpty().optional(),
  kind: z.enum(ALERT_KINDS).optional(),
} satisfies Record<(typeof MATCHER_KEYS)[number], unknown>;

export const maintenanceShape = {
  name: nonEmpty(),
  cron: cron,
  tz: timeZone.prefault('UTC'),
  duration: duration(1000),
  match: z.strictObject(matchShape).prefault({}),
};

export const metricsShape = {
  maxExportedTasks: integer(0).prefault(DEFAULT_MAX_EXPORTED_TASKS),
};

export const logShape = {
  level: z.enum(LOG_LEVELS).prefault('info'),
};

export const fileShape = {
  superoffice: z.strictObject(superofficeShape),
  redis: z.strictObject(redisShape).prefault({}),
  schedules: z.array(z.strictObject(scheduleShape)).min(1, 'must list at least one schedule'),
  rules: z.strictObject(rulesShape).prefault({}),
  mail: z.strictObject(mailShape).prefault({}),
  http: z.strictObject(httpShape).prefault({}),
  metrics: z.strictObject(metricsShape).prefault({}),
  log: z.strictObject(logShape).prefault({}),
  maintenance: z.array(z.strictObject(maintenanceShape)).prefault([]),
};

export const fileSchema = z.strictObject(fileShape);
export type ParsedFile = z.output<typeof fileSchema>;

/** Known keys of each mapping, by path with list indexes written as []. For "did you mean". */
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(fileShape),
  superoffice: Object.keys(superofficeShape),
  'superoffice.tls': Object.keys(tlsShape),
  'superoffice.systemUser': Object.keys(systemUserShape),
  redis: Object.keys(redisShape),
  'redis.sentinel': Object.keys(redisSentinelShape),
  'redis.cluster': Object.keys(redisClusterShape),
  'redis.tls': Object.keys(redisTlsShape),
  'schedules[]': Object.keys(scheduleShape),
  rules: Object.keys(rulesShape),
  'rules.tasks[]': Object.keys(taskRuleShape),
  mail: Object.keys(mailShape),
  'mail.oauth2': Object.keys(mailOAuth2Shape),
  'mail.tls': Object.keys(mailTlsShape),
  http: Object.keys(httpShape),
  metrics: Object.keys(metricsShape),
  log: Object.keys(logShape),
  'maintenance[]': Object.keys(maintenanceShape),
  'maintenance[].match': Object.keys(matchShape),
};

/** Messages for zod's generic issues, in operator words; schema-specific messages take precedence. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'is required';
      const expected: Record<string, string> = {
        string: 'a string',
        number: 'a number',
        int: 'a whole number',
        boolean: 'true or false',
        array: 'a list',
        object: 'a mapping (key: value)',
      };
      return `expected ${expected[iss.expected] ?? iss.expected}, got ${describeValue(iss.input)}`;
    }
    case 'too_small':
      return iss.origin === 'number' ? `must be at least ${String(iss.minimum)}` : 'must not be empty';
    case 'too_big':
      return `must be at most ${String(iss.maximum)}`;
    case 'invalid_value':
      return `must be one of: ${iss.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
};
