/**
 * How one task record, one active alert and the schedule-level fields are written into Redis hash fields.
 * A task record is a JSON array in a fixed field order (about half the size of a JSON object), checked
 * field by field on the way back: Redis is a boundary too (an older version, a hand edit).
 */
import { z } from 'zod';
import { ALERT_KINDS, emptySnapshot, type ActiveAlert, type Snapshot, type TaskRecord } from '../core/model.ts';
import type { BatchTaskInfo } from '../core/task.ts';
import { compactRecord } from './compact-record.ts';
import type { StringPool } from './string-pool.ts';

type Kind = 'int' | 'int?' | 'num?' | 'str' | 'str?' | 'bool?' | 'params';

/** The one list of what a stored task record holds, in order. */
const TASK_FIELDS = [
  ['id', 'int'],
  ['name', 'str'],
  ['associateId', 'int'],
  ['detailsTable', 'int?'],
  ['detailsRecord', 'int?'],
  ['isSystemTask', 'bool?'],
  ['isInternalTask', 'bool?'],
  ['parameterObject', 'params'],
  ['lastStarted', 'num?'],
  ['created', 'num?'],
  ['startCount', 'int?'],
  ['databaseSerialNumber', 'str?'],
  ['context', 'str?'],
  ['result', 'str?'],
  ['state', 'str'],
  ['description', 'str?'],
  ['response', 'str?'],
  ['request', 'str?'],
  ['progressDescription', 'str?'],
  ['progressPercent', 'num?'],
] as const satisfies readonly (readonly [keyof BatchTaskInfo, Kind])[];
// Fails to compile when BatchTaskInfo gains a field that is not stored.
const everyFieldStored: Exclude<keyof BatchTaskInfo, (typeof TASK_FIELDS)[number][0]> extends never ? true : never = true;
void everyFieldStored;

const RECORD_LENGTH = TASK_FIELDS.length + 3;

export function encodeTaskRecord(record: TaskRecord): string {
  const values: unknown[] = TASK_FIELDS.map(([field]) => record.task[field]);
  values.push(record.firstSeenAt, record.stateSince, record.progressSince);
  return JSON.stringify(values);
}

function fits(kind: Kind, value: unknown): boolean {
  switch (kind) {
    case 'int':
      return Number.isSafeInteger(value);
    case 'int?':
      return value === null || Number.isSafeInteger(value);
    case 'num?':
      return value === null || (typeof value === 'number' && Number.isFinite(value));
    case 'str':
      return typeof value === 'string';
    case 'str?':
      return value === null || typeof value === 'string';
    case 'bool?':
      return value === null || typeof value === 'boolean';
    case 'params':
      return (
        typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')
      );
  }
}

/**
 * The stored record, or a reason why it cannot be read. Kept in memory as compactRecord makes it
 * (shared strings, one object shape).
 */
export function decodeTaskRecord(raw: string, pool: StringPool): TaskRecord | string {
  let values: unknown;
  try {
    values = JSON.parse(raw);
  } catch (error) {
    return (error as Error).message;
  }
  if (!Array.isArray(values) || values.length !== RECORD_LENGTH) return 'not a task record';
  for (let i = 0; i < TASK_FIELDS.length; i++) {
    const [field, kind] = TASK_FIELDS[i]!;
    if (!fits(kind, values[i])) return `field ${field} is unreadable`;
  }
  const [firstSeenAt, stateSince, progressSince] = values.slice(TASK_FIELDS.length) as unknown[];
  if (![firstSeenAt, stateSince, progressSince].every((t) => typeof t === 'number' && Number.isFinite(t)))
    return 'timestamps are unreadable';
  const task = Object.fromEntries(TASK_FIELDS.map(([field], i) => [field, values[i]])) as unknown as BatchTaskInfo;
  return compactRecord(
    { task, firstSeenAt: firstSeenAt as number, stateSince: stateSince as number, progressSince: progressSince as number },
    pool,
  );
}

const alertShape = z.object({
  kind: z.enum(ALERT_KINDS),
  subject: z.string(),
  eventId: z.string(),
  firedAt: z.number(),
  lastNotifiedAt: z.number(),
  repeats: z.number().int().nonnegative(),
});

export function encodeAlert(alert: ActiveAlert): string {
  return JSON.stringify(alert);
}

export function decodeAlert(raw: string): ActiveAlert | string {
  try {
    const parsed = alertShape.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : (parsed.error.issues[0]?.message ?? 'bad shape');
  } catch (error) {
    return (error as Error).message;
  }
}

/** The schedule-level fields: everything but the name, version, tasks and alerts, so new fields pass through as they are. */
export type SnapshotMeta = Omit<Snapshot, 'schedule' | 'version' | 'tasks' | 'alerts'>;

export function encodeMeta(snapshot: Snapshot): string {
  const { schedule: _schedule, version: _version, tasks: _tasks, alerts: _alerts, ...meta } = snapshot;
  return JSON.stringify(meta);
}

const metaShape = z
  .object({
    consecutiveFailures: z.number().int().nonnegative(),
    lastPollAt: z.number().nullable(),
    lastSuccessAt: z.number().nullable(),
    lastError: z.object({ kind: z.string(), message: z.string() }).nullable(),
  })
  .loose();

/** Fields added after a snapshot was written default to their empty value. */
export function decodeMeta(schedule: string, raw: string): SnapshotMeta | string {
  const { schedule: _s, version: _v, tasks: _t, alerts: _a, ...defaults } = emptySnapshot(schedule);
  if (raw === '') return defaults;
  try {
    const parsed = metaShape.safeParse(JSON.parse(raw));
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'bad shape';
    return { ...defaults, ...(parsed.data as Partial<SnapshotMeta>) };
  } catch (error) {
    return (error as Error).message;
  }
}
