import { z } from 'zod';
import { DEFAULT_MAX_EXPORTED_TASKS } from '../metrics/limits.ts';
import { cronProblem } from './cron.ts';
import { DurationError, formatDuration, parseDuration } from './duration.ts';
import { canonicalTimeZone } from './time-zone.ts';

/**
 * The shape of the YAML file, field by field. Relations between fields (credentials, every vs cron,
 * unique names, ...) are checked in relations.ts so that they are reported even when some other
 * field is wrong; zod skips an object's refinements once a child failed.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

function duration(min = 0) {
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
        return ms;
      } catch (error) {
        if (!(error instanceof DurationError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
    });
}

/** Whole numbers; a string of digits (e.g. from ${PORT}) counts as its number. */
function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number()
      .int()
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

/** A URL with one of `protocols`; the value is never echoed in messages, it may carry a password. */
function url(protocols: readonly string[], what: string) {
  return z.string().transform((text, ctx) => {
    if (urlProblem(text.trim(), protocols)) {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    }
    return text.trim();
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
    ctx.addIssue({ code: 'custom', message: `"${zone}" is not an IANA time zone (e.g. UTC, Europe/Oslo)` });
    return z.NEVER;
  }
  return canonical;
});

const ADDRESS = /^(?:(?:"[^"]*"|[^<>"]*?)\s*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@"]+@[^\s<>@]+)$/;
const address = z
  .string()
  .trim()
  .regex(ADDRESS, 'must be an email address (user@example.com or "Name <user@example.com>")');
/** A list of addresses; a single address is accepted as a list of one. */
const addresses = z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(address));

const cron = z.string().superRefine((expression, ctx) => {
  const problem = cronProblem(expression);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const superofficeShape = {
  url: url(['http:', 'https:'], 'an http:// or https:// URL (the installation base, e.g. https://sod.superoffice.com/Cust12345)')
    .transform((text) => text.replace(/\/+$/, '')),
  applicationToken: z.string().optional(),
  ticket: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  timeout: duration(1).prefault('30s'),
  associatesPerRequest: integer(1).prefault(100),
  maxConcurrentRequests: integer(1).prefault(2),
  timeZone: timeZone.prefault('UTC'),
};

export const redisShape = {
  url: url(['redis:', 'rediss:'], 'a redis:// or rediss:// URL').prefault('redis://127.0.0.1:6379'),
  prefix: nonEmpty()
    .regex(/^[^\s{}]+$/, 'must not contain spaces or braces (BullMQ adds its own {hash tags})')
    .prefault('batchwatch'),
};

export const scheduleShape = {
  name: z.string().regex(/^[a-z0-9-]+$/, 'use lower-case letters, digits and "-" only'),
  associates: z.array(integer(0)).min(1, 'must list at least one associate id'),
  every: duration(1000).optional(),
  cron: cron.optional(),
  tz: timeZone.optional(),
  mailTo: addresses.optional(),
};

export const taskRuleShape = {
  name: nonEmpty(),
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

export const mailShape = {
  enabled: flag().prefault(true),
  smtp: blankAsAbsent().pipe(
    url(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL, e.g. smtp://user:${SMTP_PASSWORD}@smtp.example.com:587').optional(),
  ),
  from: blankAsAbsent().pipe(address.optional()),
  to: addresses.optional(),
  retryDelay: duration(1).prefault('30s'),
  retryFor: duration().prefault('24h'),
};

export const httpShape = {
  host: nonEmpty().prefault('0.0.0.0'),
  port: integer(0, 65_535).prefault(9464),
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
};

export const fileSchema = z.strictObject(fileShape);
export type ParsedFile = z.output<typeof fileSchema>;

/** Known keys of each mapping, by path with list indexes written as []. For "did you mean". */
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(fileShape),
  superoffice: Object.keys(superofficeShape),
  redis: Object.keys(redisShape),
  'schedules[]': Object.keys(scheduleShape),
  rules: Object.keys(rulesShape),
  'rules.tasks[]': Object.keys(taskRuleShape),
  mail: Object.keys(mailShape),
  http: Object.keys(httpShape),
  metrics: Object.keys(metricsShape),
  log: Object.keys(logShape),
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
