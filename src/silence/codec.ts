/** What silences, acknowledgements and muted alerts look like in Redis, checked where they are read back (Redis is input too). */
import { z } from 'zod';
import type { AlertMatchers } from '../core/matchers.ts';
import { ALERT_KINDS, type AlertKind } from '../core/model.ts';
import type { MutedAlert } from '../core/release.ts';
import type { Silence } from '../core/silences.ts';

/** The largest time a Date holds (ms either side of 1970): a stored time beyond it could not be shown or compared sensibly. */
const MAX_DATE_MS = 8.64e15;
const time = z.number().int().min(-MAX_DATE_MS).max(MAX_DATE_MS);

const matchersSchema = z.strictObject({
  task: z.string().min(1).optional(),
  taskId: z.number().int().optional(),
  associate: z.number().int().optional(),
  schedule: z.string().min(1).optional(),
  kind: z.enum(ALERT_KINDS).optional(),
});

const silenceSchema = z.object({
  id: z.string().min(1),
  matchers: matchersSchema,
  startsAt: time,
  endsAt: time,
  comment: z.string(),
  author: z.string(),
  createdAt: time,
  expiredAt: time.optional(),
  expiredBy: z.string().optional(),
});

const mutedSchema = z.object({
  kind: z.enum(ALERT_KINDS),
  subject: z.string(),
  episode: z.string().min(1),
  eventId: z.string().min(1),
  at: time,
  silences: z.array(z.string()),
  windows: z.array(z.string()),
});

/** An acknowledgement as stored: who and why, and which alert it is for (for listings). */
export interface StoredAck {
  author: string;
  comment: string;
  at: number;
  kind: AlertKind;
  subject: string;
  /** The episode was muted since its first event and not told when acknowledged (Acknowledgement.untold). */
  untold?: boolean;
}

const ackSchema = z.object({
  author: z.string(),
  comment: z.string(),
  at: time,
  kind: z.enum(ALERT_KINDS),
  subject: z.string(),
  untold: z.boolean().optional(),
});

function parse<T>(schema: z.ZodType<T>, raw: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Optional keys left out rather than undefined, so a value reads back as it was written. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const decodeSilence = (raw: string): Silence | null => {
  const silence = parse(silenceSchema, raw);
  return silence ? withoutUndefined({ ...silence, matchers: withoutUndefined(silence.matchers) as AlertMatchers }) : null;
};
export const decodeMuted = (raw: string): MutedAlert | null => parse(mutedSchema, raw);
export const decodeAck = (raw: string): StoredAck | null => {
  const ack = parse(ackSchema, raw);
  return ack ? withoutUndefined(ack) : null;
};
export const encode = (value: Silence | MutedAlert | StoredAck): string => JSON.stringify(value);
