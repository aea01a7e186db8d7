/**
 * A SuperOffice BatchTaskInfo after validation at the SOAP boundary.
 * Dates are epoch milliseconds (already resolved against the configured time zone);
 * every field SuperOffice may omit or send as nil is `null`.
 */
export const KNOWN_STATES = ['Unknown', 'New', 'Aquired', 'Started', 'Succeeded', 'Failed', 'SucceededManualCleanup'] as const;
export type KnownState = (typeof KNOWN_STATES)[number];
/** Unknown strings from newer SuperOffice versions are kept as they came. */
export type TaskState = KnownState | (string & {});

export const RUNNING_STATES: readonly TaskState[] = ['Aquired', 'Started'];
export const SUCCESS_STATES: readonly TaskState[] = ['Succeeded', 'SucceededManualCleanup'];
export const FINISHED_STATES: readonly TaskState[] = [...SUCCESS_STATES, 'Failed'];

/** AssociateId of system tasks (run by the system, not by a user). */
export const SYSTEM_ASSOCIATE_ID = 0;
/** How mails, the CLI and the API show associate 0, and accept it back. */
export const SYSTEM_ASSOCIATE_LABEL = 'system';

/** The associate as people read it: its id, or "system" for system tasks. Metric labels keep the number. */
export function associateLabel(associateId: number): string {
  return associateId === SYSTEM_ASSOCIATE_ID ? SYSTEM_ASSOCIATE_LABEL : String(associateId);
}

export interface BatchTaskInfo {
  id: number;
  name: string;
  associateId: number;
  detailsTable: number | null;
  detailsRecord: number | null;
  isSystemTask: boolean | null;
  isInternalTask: boolean | null;
  parameterObject: Record<string, string>;
  lastStarted: number | null;
  created: number | null;
  startCount: number | null;
  databaseSerialNumber: string | null;
  context: string | null;
  result: string | null;
  state: TaskState;
  description: string | null;
  response: string | null;
  request: string | null;
  progressDescription: string | null;
  /** 0..100, clamped at the boundary; null when SuperOffice sent none. */
  progressPercent: number | null;
}

/** Fields compared one by one (parameterObject, the only non-scalar, separately); the type check below keeps it complete. */
const SCALAR_FIELDS = [
  'id',
  'name',
  'associateId',
  'detailsTable',
  'detailsRecord',
  'isSystemTask',
  'isInternalTask',
  'lastStarted',
  'created',
  'startCount',
  'databaseSerialNumber',
  'context',
  'result',
  'state',
  'description',
  'response',
  'request',
  'progressDescription',
  'progressPercent',
] as const satisfies readonly Exclude<keyof BatchTaskInfo, 'parameterObject'>[];
// Fails to compile when BatchTaskInfo gains a field that sameTaskInfo does not compare.
const everyFieldCompared: Exclude<keyof BatchTaskInfo, (typeof SCALAR_FIELDS)[number] | 'parameterObject'> extends never ? true : never =
  true;
void everyFieldCompared;

/** Whether two readings of a task carry the same values (so the older object can be kept). */
export function sameTaskInfo(a: BatchTaskInfo, b: BatchTaskInfo): boolean {
  if (a === b) return true;
  for (const field of SCALAR_FIELDS) if (a[field] !== b[field]) return false;
  const aKeys = Object.keys(a.parameterObject);
  if (aKeys.length !== Object.keys(b.parameterObject).length) return false;
  for (const key of aKeys) if (!Object.hasOwn(b.parameterObject, key) || a.parameterObject[key] !== b.parameterObject[key]) return false;
  return true;
}
