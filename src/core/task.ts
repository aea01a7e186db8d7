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
export const FINISHED_STATES: readonly TaskState[] = ['Succeeded', 'SucceededManualCleanup', 'Failed'];

/** AssociateId of system tasks (run by the system, not by a user). */
export const SYSTEM_ASSOCIATE_ID = 0;

/** The associate as people read it: its id, or "system" for system tasks. Metric labels keep the number. */
export function associateLabel(associateId: number): string {
  return associateId === SYSTEM_ASSOCIATE_ID ? 'system' : String(associateId);
}

export function isKnownState(state: string): state is KnownState {
  return (KNOWN_STATES as readonly string[]).includes(state);
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
