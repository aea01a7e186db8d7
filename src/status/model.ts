/**
 * The status page's view model, built from plain data (snapshots, silences, the notification log) with the
 * clock as an argument. Pure: the collector (status/collector.ts) reads, this decides what is shown, and the
 * renderer (status/render.ts) and the JSON API (status/json.ts) only present it. Every list is bounded, and the
 * work is too: the shown rows are picked with a bounded selection (status/top.ts), never by sorting every alert or task.
 */
import { CronExpressionParser } from 'cron-parser';
import type { ScheduleTiming } from '../config/types.ts';
import type { AlertMatchers } from '../core/matchers.ts';
import { alertKey } from '../core/event-id.ts';
import { ALERT_KINDS, type Acknowledgement, type ActiveAlert, type AlertKind, type Snapshot, type TaskRecord } from '../core/model.ts';
import { associateLabel, RUNNING_STATES } from '../core/task.ts';
import type { OutcomeStatus } from '../notify/pipeline.ts';
import type { HistoryEntry } from '../notify/history.ts';
import type { AlertAnnotation, AlertInput, MutedBy, SilenceView, WindowView } from '../silence/controls.ts';
import { compareSubjects, TopK } from './top.ts';

/** How many rows each section shows at most; the rest is counted ("and K more"). */
export interface StatusLimits {
  alerts: number;
  running: number;
  notifications: number;
  silences: number;
}

export const DEFAULT_STATUS_LIMITS: StatusLimits = { alerts: 50, running: 50, notifications: 20, silences: 50 };

/** What the collector read; `null` where a part could not be read (the page says so in `problems`). */
export interface StatusInput {
  now: number;
  schedules: readonly { name: string; timing: ScheduleTiming; snapshot: Snapshot | undefined }[];
  /** False while this process's copy of the snapshots cannot be kept current (Redis unreachable). */
  snapshotsCurrent: boolean;
  /** The rows to show, when already picked from these snapshots (the collector reuses one per snapshot version); else picked here. */
  selection?: StatusSelection;
  /** By episode id (the shown alerts suffice); null when silences/acknowledgements could not be read. */
  annotations: ReadonlyMap<string, AlertAnnotation> | null;
  silences: readonly SilenceView[] | null;
  windows: readonly WindowView[];
  /** Newest first; null when the notification log could not be read. */
  notifications: readonly HistoryEntry[] | null;
  /** One line each: what could not be read and why (already scrubbed of secrets). */
  problems: readonly string[];
}

export const SCHEDULE_STATES = ['up', 'maintenance', 'down', 'not polled yet'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

export interface ScheduleRow {
  name: string;
  state: ScheduleState;
  lastPollAt: number | null;
  lastSuccessAt: number | null;
  /** When the next poll is due (from the schedule's `every` or cron); null when unknown. */
  nextPollAt: number | null;
  consecutiveFailures: number;
  /** The last poll's error, when it failed. */
  lastError: string | null;
  /** The tenant's state while it reports planned maintenance (e.g. OfflineMaintenance). */
  maintenanceState: string | null;
  tasks: number;
  alerts: number;
}

export interface TaskSummary {
  id: number;
  name: string;
  /** "system" for associate 0. */
  associate: string;
  state: string;
  progressPercent: number | null;
}

export interface AlertRow {
  schedule: string;
  kind: AlertKind;
  /** Task id, or the schedule name for superoffice-down. */
  subject: string;
  episode: string;
  task: TaskSummary | null;
  since: number;
  lastNotifiedAt: number;
  /** Null when silences and acknowledgements could not be read. */
  silencedBy: MutedBy[] | null;
  acknowledged: Acknowledgement | null;
}

export interface RunningRow extends TaskSummary {
  schedule: string;
  description: string | null;
  lastStarted: number | null;
  /** When the progress last moved (or the task started running). */
  progressSince: number;
  frozenForMs: number;
  /** Active alerts of this task (e.g. stalled). */
  alerts: AlertKind[];
}

export interface NotificationRow {
  at: number;
  status: OutcomeStatus;
  schedule: string;
  subject: string | null;
  detail: string | null;
  events: number;
}

export interface SilenceRow {
  id: string;
  state: 'active' | 'pending';
  matchers: AlertMatchers;
  startsAt: number;
  endsAt: number;
  comment: string;
  author: string;
}

export interface WindowRow {
  name: string;
  match: AlertMatchers;
  inForce: { startsAt: number; endsAt: number } | null;
  nextStart: number | null;
}

/** At most `limit` rows of a section, and how many were left out. */
export interface Bounded<T> {
  items: T[];
  more: number;
}

export interface StatusView {
  generatedAt: number;
  /** Snapshot data may be behind: Redis could not be read. */
  stale: boolean;
  problems: string[];
  schedules: ScheduleRow[];
  alerts: Bounded<AlertRow>;
  running: Bounded<RunningRow>;
  /** Null: the notification log could not be read. */
  notifications: Bounded<NotificationRow> | null;
  /** Active and pending silences; null: they could not be read. */
  silences: Bounded<SilenceRow> | null;
  windows: WindowRow[];
}

function bounded<T>(rows: T[], limit: number): Bounded<T> {
  return { items: rows.slice(0, Math.max(0, limit)), more: Math.max(0, rows.length - Math.max(0, limit)) };
}

/** A running task picked to be shown, with its active alerts (e.g. stalled). */
export interface RunningPick {
  schedule: string;
  record: TaskRecord;
  alerts: AlertKind[];
}

/** What the view shows of the snapshots: the first alerts and running tasks in page order, and counts for the rest. */
export interface StatusSelection {
  /** The shown alerts with their tasks: what SilenceControls.annotate takes. */
  alerts: Bounded<AlertInput>;
  running: Bounded<RunningPick>;
  /** Per snapshot (same order; undefined for a missing one). */
  counts: ({ tasks: number; alerts: number } | undefined)[];
}

/** superoffice-down first (while it fires nothing else is seen), then the kinds in ALERT_KINDS order. */
const kindOrder = (kind: AlertKind): number => (kind === 'superoffice-down' ? -1 : ALERT_KINDS.indexOf(kind));

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareAlertParts(a: ActiveAlert, aSchedule: string, b: ActiveAlert, bSchedule: string): number {
  return (
    kindOrder(a.kind) - kindOrder(b.kind) ||
    b.firedAt - a.firedAt ||
    compareSubjects(a.subject, b.subject) ||
    compareText(aSchedule, bSchedule)
  );
}

function compareRunningParts(a: TaskRecord, aSchedule: string, b: TaskRecord, bSchedule: string): number {
  return a.progressSince - b.progressSince || a.task.id - b.task.id || compareText(aSchedule, bSchedule);
}

/** Page order of alerts: by kind, newest first within a kind, then by task id (numerically) and schedule. */
export const compareAlerts = (a: AlertInput, b: AlertInput): number => compareAlertParts(a.alert, a.schedule, b.alert, b.schedule);

/** Page order of running tasks: longest frozen (earliest progressSince) first, then by id and schedule. */
export const compareRunning = (a: RunningPick, b: RunningPick): number => compareRunningParts(a.record, a.schedule, b.record, b.schedule);

const TASK_ALERT_KINDS = ALERT_KINDS.filter((k) => k !== 'superoffice-down');

/**
 * Picks the rows the view shows: one pass over the alerts and tasks with a bounded selection (no sort of them all,
 * no per-row objects for rows left out). Depends only on the snapshots and limits, so it can be reused while they
 * are unchanged.
 */
export function selectRows(snapshots: readonly (Snapshot | undefined)[], limits: StatusLimits = DEFAULT_STATUS_LIMITS): StatusSelection {
  const alerts = new TopK<AlertInput>(limits.alerts, compareAlerts);
  const running = new TopK<RunningPick>(limits.running, compareRunning);
  const counts: StatusSelection['counts'] = [];
  for (const snapshot of snapshots) {
    if (!snapshot) {
      counts.push(undefined);
      continue;
    }
    const { schedule } = snapshot;
    // A row is built only when it sorts before the last one kept so far.
    const allAlerts = Object.values(snapshot.alerts);
    for (const alert of allAlerts) {
      const worst = alerts.threshold();
      if (worst && compareAlertParts(alert, schedule, worst.alert, worst.schedule) >= 0) alerts.pass();
      else alerts.offer({ schedule, alert, task: alert.kind === 'superoffice-down' ? undefined : snapshot.tasks[alert.subject]?.task });
    }
    const allTasks = Object.values(snapshot.tasks);
    for (const record of allTasks) {
      if (!RUNNING_STATES.includes(record.task.state)) continue;
      const worst = running.threshold();
      if (worst && compareRunningParts(record, schedule, worst.record, worst.schedule) >= 0) running.pass();
      else running.offer({ schedule, record, alerts: [] });
    }
    counts.push({ tasks: allTasks.length, alerts: allAlerts.length });
  }
  const shownRunning = running.result();
  const bySchedule = new Map(snapshots.filter((s): s is Snapshot => s !== undefined).map((s) => [s.schedule, s]));
  for (const pick of shownRunning.items) {
    const snapshot = bySchedule.get(pick.schedule)!;
    const subject = String(pick.record.task.id);
    pick.alerts = TASK_ALERT_KINDS.filter((kind) => snapshot.alerts[alertKey(kind, subject)] !== undefined);
  }
  return { alerts: alerts.result(), running: shownRunning, counts };
}

/** When the next poll is due: `every` counts from the last poll; a cron expression names its next time after `now`. */
export function nextPollAt(timing: ScheduleTiming, lastPollAt: number | null, now: number): number | null {
  if ('every' in timing) return lastPollAt === null ? null : lastPollAt + timing.every;
  try {
    const dates = CronExpressionParser.parse(timing.cron, { currentDate: new Date(now), ...(timing.tz ? { tz: timing.tz } : {}) });
    return dates.hasNext() ? dates.next().getTime() : null;
  } catch {
    return null;
  }
}

export function scheduleState(snapshot: Snapshot | undefined): ScheduleState {
  if (!snapshot || snapshot.lastPollAt === null) return 'not polled yet';
  if (snapshot.maintenance) return 'maintenance';
  if (snapshot.alerts[alertKey('superoffice-down', snapshot.schedule)] !== undefined) return 'down';
  return 'up';
}

function scheduleRow(entry: StatusInput['schedules'][number], counts: StatusSelection['counts'][number], now: number): ScheduleRow {
  const s = entry.snapshot;
  return {
    name: entry.name,
    state: scheduleState(s),
    lastPollAt: s?.lastPollAt ?? null,
    lastSuccessAt: s?.lastSuccessAt ?? null,
    nextPollAt: nextPollAt(entry.timing, s?.lastPollAt ?? null, now),
    consecutiveFailures: s?.consecutiveFailures ?? 0,
    lastError: s?.lastError ? `${s.lastError.kind}: ${s.lastError.message}` : null,
    maintenanceState: s?.maintenance?.state ?? null,
    tasks: counts?.tasks ?? 0,
    alerts: counts?.alerts ?? 0,
  };
}

function taskSummary(task: NonNullable<AlertInput['task']>): TaskSummary {
  return {
    id: task.id,
    name: task.name,
    associate: associateLabel(task.associateId),
    state: task.state,
    progressPercent: task.progressPercent,
  };
}

/** Builds what the page and GET /api/v1/status show. */
export function buildStatus(input: StatusInput, limits: StatusLimits = DEFAULT_STATUS_LIMITS): StatusView {
  const { now } = input;
  const snapshots = input.schedules.map((s) => s.snapshot);

  const selection = input.selection ?? selectRows(snapshots, limits);

  const alerts = selection.alerts.items.map((a): AlertRow => {
    const note = input.annotations?.get(a.alert.eventId);
    return {
      schedule: a.schedule,
      kind: a.alert.kind,
      subject: a.alert.subject,
      episode: a.alert.eventId,
      task: a.task ? taskSummary(a.task) : null,
      since: a.alert.firedAt,
      lastNotifiedAt: a.alert.lastNotifiedAt,
      silencedBy: input.annotations ? (note?.silencedBy ?? []) : null,
      acknowledged: note?.acknowledged ?? null,
    };
  });

  const running = selection.running.items.map(
    ({ schedule, record, alerts: kinds }): RunningRow => ({
      ...taskSummary(record.task),
      schedule,
      description: record.task.progressDescription,
      lastStarted: record.task.lastStarted,
      progressSince: record.progressSince,
      frozenForMs: Math.max(0, now - record.progressSince),
      alerts: kinds,
    }),
  );

  const notifications = input.notifications?.map(
    (n): NotificationRow => ({
      at: n.at,
      status: n.status,
      schedule: n.schedule,
      subject: n.subject ?? null,
      detail: n.detail ?? null,
      events: n.eventIds.length,
    }),
  );

  const silences = input.silences
    ?.filter((s): s is SilenceView & { state: 'active' | 'pending' } => s.state !== 'expired')
    .map(
      (s): SilenceRow => ({
        id: s.id,
        state: s.state,
        matchers: s.matchers,
        startsAt: s.startsAt,
        endsAt: s.endsAt,
        comment: s.comment,
        author: s.author,
      }),
    )
    .sort((a, b) => (a.state === b.state ? a.endsAt - b.endsAt : a.state === 'active' ? -1 : 1));

  return {
    generatedAt: now,
    stale: !input.snapshotsCurrent,
    problems: [...input.problems],
    schedules: input.schedules.map((entry, i) => scheduleRow(entry, selection.counts[i], now)),
    alerts: { items: alerts, more: selection.alerts.more },
    running: { items: running, more: selection.running.more },
    notifications: notifications ? bounded(notifications, limits.notifications) : null,
    silences: silences ? bounded(silences, limits.silences) : null,
    windows: input.windows.map((w) => ({ name: w.name, match: w.match, inForce: w.inForce, nextStart: w.nextStart })),
  };
}
