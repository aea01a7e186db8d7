import type { BatchTaskInfo, TaskState } from './task.ts';

/** Durations are milliseconds everywhere inside the core. */
export interface TaskRuleOverride {
  /** Glob on BatchTaskInfo.Name (syntax in core/glob.ts, matched against the whole name). */
  name: string;
  ignore: boolean;
  stallAfter?: number;
  queuedTimeout?: number;
}

export interface Rules {
  /** 0 disables stall detection. */
  stallAfter: number;
  /** 0 disables stuck detection. */
  queuedTimeout: number;
  firstSeenWindow: number;
  unreachableAfter: number;
  /** 0 means never repeat. */
  repeatInterval: number;
  sendResolved: boolean;
  tasks: TaskRuleOverride[];
}

/** Every kind of alert, in the order operators read them; the one list (matchers, metrics, docs). */
export const ALERT_KINDS = ['failed', 'stalled', 'stuck', 'superoffice-down'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const EVENT_KINDS = [...ALERT_KINDS, 'resolved'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** What the snapshot remembers about one task between polls. */
export interface TaskRecord {
  task: BatchTaskInfo;
  /** First poll that returned this task id. */
  firstSeenAt: number;
  /** When `task.state` last changed (or first seen). */
  stateSince: number;
  /** When ProgressPercent/ProgressDescription last changed, or the task (re)entered a running state. */
  progressSince: number;
}

/** An alert currently firing; the notification log's idea of "already told". */
export interface ActiveAlert {
  kind: AlertKind;
  /** Task id as string, or the schedule name for superoffice-down. */
  subject: string;
  /** Deterministic id of the event that started this episode. */
  eventId: string;
  firedAt: number;
  lastNotifiedAt: number;
  /** Number of repeat reminders sent for this episode. */
  repeats: number;
}

export interface Snapshot {
  schedule: string;
  /** Monotonic write counter; the compare-and-set token. 0 = never written. */
  version: number;
  tasks: Record<string, TaskRecord>;
  alerts: Record<string, ActiveAlert>;
  consecutiveFailures: number;
  lastPollAt: number | null;
  lastSuccessAt: number | null;
  lastError: PollError | null;
  /** Set while the tenant reports planned maintenance (its failed polls are not an outage); null otherwise. */
  maintenance: TenantMaintenance | null;
}

/** What the tenant status endpoint said while polls failed: `state` is anything but Running. */
export interface TenantMaintenance {
  state: string;
  /** First failed poll of this maintenance. */
  since: number;
}

/** A task left out of a poll because one of its fields could not be read. */
export interface UnreadableTask {
  /** The task's Id, when that field itself was readable. */
  id: number | null;
  /** Element name of the offending field, e.g. LastStarted. */
  field: string;
  /** Why, with the (clipped, secret-scrubbed) value. */
  problem: string;
}

export type PollErrorKind = 'transport' | 'soap-fault' | 'superoffice' | 'auth' | 'malformed' | 'internal';

export interface PollError {
  kind: PollErrorKind;
  message: string;
}

export type PollOutcome =
  /** `unreadable`: tasks left out of this poll; their previous records and alerts are kept unchanged. */
  | { ok: true; tasks: BatchTaskInfo[]; unreadable?: UnreadableTask[] }
  /** `maintenance`: the tenant said it is not Running, so this failure is planned maintenance, not an outage. */
  | { ok: false; error: PollError; maintenance?: { state: string } };

/** One notification-worthy fact. `id` is deterministic: the same episode always yields the same id. */
export interface AlertEvent {
  id: string;
  kind: EventKind;
  /** For `resolved`, the kind that resolved; otherwise equal to `kind`. */
  alertKind: AlertKind;
  schedule: string;
  /** Task id as string, or the schedule name for superoffice-down. */
  subject: string;
  /** True for a repeatInterval reminder of an alert already notified. */
  repeat: boolean;
  at: number;
  /** When the alert's condition began (progress frozen since, New since, failing since...). */
  since: number;
  /** The task as last seen; absent for superoffice-down. */
  task?: BatchTaskInfo;
  /** For superoffice-down: the last poll error and the failure count. */
  error?: PollError;
  consecutiveFailures?: number;
  /** Why a resolution happened, in words (e.g. "progress moved", "task vanished"). */
  reason?: string;
  /** On a resolution: who acknowledged the episode (src/core/acknowledgements.ts). */
  acknowledged?: Acknowledgement;
  /**
   * On a release: the alert was muted by a silence or maintenance window (since `mutedAt`) that has
   * ended while it still fires; this event tells it now (src/core/release.ts).
   */
  release?: { mutedAt: number };
}

/** Someone is on it: the acknowledgement of one alert episode. */
export interface Acknowledgement {
  author: string;
  comment: string;
  /** Unix ms. */
  at: number;
  /**
   * When it was acknowledged, the episode had been muted since its first event and not told since. Nothing
   * tells an acknowledged episode later, so its resolution is not mailed either, however long it fires (the
   * notification log, which knows this too, forgets after mail.retryFor + 7 days).
   */
  untold?: boolean;
}

export interface Evaluation {
  next: Snapshot;
  events: AlertEvent[];
}

export function emptySnapshot(schedule: string): Snapshot {
  return {
    schedule,
    version: 0,
    tasks: {},
    alerts: {},
    consecutiveFailures: 0,
    lastPollAt: null,
    lastSuccessAt: null,
    lastError: null,
    maintenance: null,
  };
}

export type { BatchTaskInfo, TaskState };

/** The events of one poll of one schedule: one mail. `id` is deterministic: the schedule and a digest of its event ids (store/snapshot-store.ts batchIdFor). */
export interface NotificationBatch {
  id: string;
  schedule: string;
  createdAt: number;
  events: AlertEvent[];
}
