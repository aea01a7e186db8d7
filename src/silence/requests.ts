/**
 * Requests to silence or acknowledge, as the CLI and the JSON API take them (the same names: task, taskId,
 * associate, schedule, kind, for | until, comment, author), validated with zod like the config. A problem
 * names the offending field, so the CLI can name its flag and the API answer 400 with it.
 */
import { z } from 'zod';
import { scrubSecrets } from '../redact/secrets.ts';
import { DurationError, formatDuration, MAX_DURATION_MS, parseDuration } from '../config/duration.ts';
import { hasMatchers, normalizeMatchers, type AlertMatchers } from '../core/matchers.ts';
import { ALERT_KINDS } from '../core/model.ts';
import { GlobError } from '../core/glob.ts';
import { compileTaskGlob } from '../core/task-rules.ts';
import { SYSTEM_ASSOCIATE_ID, SYSTEM_ASSOCIATE_LABEL } from '../core/task.ts';
import type { NewSilence } from './silence-store.ts';

/** Longer comments and names are refused rather than cut (they are shown in mail history, the status page, the CLI). */
export const MAX_COMMENT_LENGTH = 1000;
export const MAX_AUTHOR_LENGTH = 200;

export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    /** The request field (API name) at fault, or '' for the request as a whole. */
    readonly field: string,
    /** What is wrong with it, e.g. "must be a whole number". */
    readonly problem: string,
    /** The same in the CLI's words (flags instead of field names), when they differ. */
    readonly cliProblem?: string,
  ) {
    super(field ? `${field}: ${problem}` : problem);
  }
}

/** A whole number, given as a JSON number or as digits (CLI flags are text). */
const wholeNumber = (min: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`),
  );

/** An associate id, or "system" (any case) for the system tasks' associate 0: how the API's answers and mails show it. */
const associateId = z.preprocess(
  (value) => (typeof value === 'string' && value.trim().toLowerCase() === SYSTEM_ASSOCIATE_LABEL ? SYSTEM_ASSOCIATE_ID : value),
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: 'must be a whole number or "system"' })
      .int('must be a whole number or "system"')
      .min(0, 'must be a whole number or "system"'),
  ),
);

const text = (max: number) =>
  z.string({ error: 'must be text' }).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
/** Free text kept in Redis and shown in mail, logs and answers: a secret pasted into it is masked before it is stored. */
const freeText = (max: number) => text(max).transform((value) => scrubSecrets(value));
/** Who did it: free text on one line (it is quoted in logs, the status page and the CLI's table). */
const authorText = text(MAX_AUTHOR_LENGTH)
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must be one line without control characters')
  .transform((value) => scrubSecrets(value));

/** An instant with a date, a time and a zone (Z or an offset): a silence must not depend on whose clock reads it. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const instant = z.string({ error: 'must be an ISO-8601 time' }).transform((value, ctx) => {
  const trimmed = value.trim();
  const ms = ISO_INSTANT.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${trimmed}" is not an ISO-8601 time with a zone, e.g. 2025-01-06T22:00:00Z or 2025-01-06T23:00+01:00`,
    });
    return z.NEVER;
  }
  return ms;
});

const durationText = z.string({ error: 'must be a duration such as 2h' }).transform((value, ctx) => {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than 0s' });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      // Beyond that, startsAt + for could pass what a date holds: stored, it could not be shown.
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(MAX_DURATION_MS)}` });
      return z.NEVER;
    }
    return ms;
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

const taskGlob = text(500).superRefine((glob, ctx) => {
  try {
    compileTaskGlob(glob);
  } catch (error) {
    if (!(error instanceof GlobError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
});

const kind = z.enum(ALERT_KINDS, { error: `must be one of: ${ALERT_KINDS.join(', ')}` });

const silenceSchema = z.strictObject({
  task: taskGlob.optional(),
  taskId: wholeNumber(1).optional(),
  associate: associateId.optional(),
  schedule: text(100).optional(),
  kind: kind.optional(),
  for: durationText.optional(),
  until: instant.optional(),
  /** When the silence starts (default now): a silence for tonight can be made now. */
  from: instant.optional(),
  comment: freeText(MAX_COMMENT_LENGTH),
  author: authorText.optional(),
});

const ackSchema = z.strictObject({
  taskId: wholeNumber(1),
  schedule: text(100).optional(),
  comment: freeText(MAX_COMMENT_LENGTH),
  author: authorText.optional(),
});

export interface RequestContext {
  now: number;
  /** Configured schedule names: a schedule matcher must name one. */
  schedules: readonly string[];
  /** Used when the request names no author (the CLI: the OS user); absent (the API): author is required. */
  defaultAuthor?: string;
}

function authorOf(author: string | undefined, context: RequestContext): string {
  const chosen = author ?? context.defaultAuthor;
  if (chosen === undefined) throw new RequestError('author', 'is required (who is doing this, e.g. your name or login)');
  return chosen;
}

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown): T {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new RequestError('', 'expected a JSON object');
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw new RequestError(issue.keys[0] ?? '', 'unknown field');
  const field = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  throw new RequestError(field, missing ? 'is required' : issue.message);
}

function checkSchedule(schedule: string | undefined, context: RequestContext): void {
  if (schedule !== undefined && !context.schedules.includes(schedule)) {
    throw new RequestError('schedule', `no schedule named "${schedule}" (configured: ${context.schedules.join(', ')})`);
  }
}

/** A new silence from a request: at least one matcher, exactly one of for and until, an end in the future. */
export function silenceFromRequest(input: unknown, context: RequestContext): NewSilence {
  const request = parseOrThrow(silenceSchema, input);
  const matchers: AlertMatchers = normalizeMatchers(request);
  if (!hasMatchers(matchers)) {
    throw new RequestError(
      '',
      'give at least one matcher: task, taskId, associate, schedule or kind',
      'give at least one matcher: --task, --task-id, --associate, --schedule or --kind',
    );
  }
  checkSchedule(request.schedule, context);
  if ((request.for === undefined) === (request.until === undefined)) {
    throw new RequestError(
      'for',
      'give either for (a duration) or until (a time), not both or neither',
      'give either --for DURATION or --until ISO-8601, not both or neither',
    );
  }
  const startsAt = request.from ?? context.now;
  const endsAt = request.until ?? startsAt + request.for!;
  if (endsAt <= context.now) {
    // An already-ended silence would be stored only to be listed as expired.
    if (request.until !== undefined) throw new RequestError('until', 'is in the past');
    throw new RequestError('for', 'ends in the past (from + for is before now)', '--for ends in the past (--from + --for is before now)');
  }
  if (endsAt <= startsAt) throw new RequestError('until', 'must be after from', '--until must be after --from');
  return { matchers, startsAt, endsAt, comment: request.comment, author: authorOf(request.author, context) };
}

export interface AckRequest {
  taskId: number;
  schedule?: string;
  comment: string;
  author: string;
}

export function ackFromRequest(input: unknown, context: RequestContext): AckRequest {
  const request = parseOrThrow(ackSchema, input);
  checkSchedule(request.schedule, context);
  return {
    taskId: request.taskId,
    ...(request.schedule !== undefined ? { schedule: request.schedule } : {}),
    comment: request.comment,
    author: authorOf(request.author, context),
  };
}

/**
 * Who expires a silence (the API's ?author=, the CLI's --author): checked like a request's author; when none
 * is given (or it is blank), the context's default. RequestError naming `author`.
 */
export function expiringAuthor(author: string | undefined, context: RequestContext): string {
  const given = author === undefined || author.trim() === '' ? {} : { author };
  return authorOf(parseOrThrow(z.strictObject({ author: authorText.optional() }), given).author, context);
}
