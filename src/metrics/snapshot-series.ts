import type { AlertKind, Snapshot, TaskRecord } from '../core/model.ts';
import { FINISHED_STATES, KNOWN_STATES, isKnownState } from '../core/task.ts';
import type { Sample } from './computed-gauge.ts';

export type TaskLabel = 'associate_id' | 'task_id' | 'task_name';
export type TaskStateLabel = TaskLabel | 'state';

export interface SnapshotSeries {
  taskState: Sample<TaskStateLabel>[];
  taskProgressRatio: Sample<TaskLabel>[];
  taskStalled: Sample<TaskLabel>[];
  taskLastStarted: Sample<TaskLabel>[];
  taskStarts: Sample<TaskLabel>[];
  taskProgressChanged: Sample<TaskLabel>[];
  taskStateChanged: Sample<TaskLabel>[];
  tasks: Sample<'associate_id' | 'state'>[];
  up: Sample<'schedule'>[];
  maintenance: Sample<'schedule'>[];
  lastSuccessfulPoll: Sample<'schedule'>[];
  lastPoll: Sample<'schedule'>[];
  consecutiveFailures: Sample<'schedule'>[];
  activeAlerts: Sample<'schedule' | 'kind'>[];
}

export interface SeriesOptions {
  /** Configured schedules: only these are reported, and each of them is, even before its first poll. */
  schedules: readonly string[];
  now: number;
  finishedRetentionMs: number;
}

const ALERT_KINDS: readonly AlertKind[] = ['failed', 'stalled', 'stuck', 'superoffice-down'];

const seconds = (ms: number) => ms / 1000;

/** A task is exported while unfinished, and for `finishedRetentionMs` after it entered a finished state. */
export function isTaskExported(record: TaskRecord, now: number, finishedRetentionMs: number): boolean {
  if (!FINISHED_STATES.includes(record.task.state)) return true;
  return now - record.stateSince < finishedRetentionMs;
}

function stalledTaskIds(snapshot: Snapshot): Set<string> {
  const ids = new Set<string>();
  for (const alert of Object.values(snapshot.alerts)) {
    if (alert.kind === 'stalled') ids.add(alert.subject);
  }
  return ids;
}

/** Every series derived from the shared snapshots, computed from plain data (one call per scrape). */
export function snapshotSeries(snapshots: readonly Snapshot[], opts: SeriesOptions): SnapshotSeries {
  const out: SnapshotSeries = {
    taskState: [],
    taskProgressRatio: [],
    taskStalled: [],
    taskLastStarted: [],
    taskStarts: [],
    taskProgressChanged: [],
    taskStateChanged: [],
    tasks: [],
    up: [],
    maintenance: [],
    lastSuccessfulPoll: [],
    lastPoll: [],
    consecutiveFailures: [],
    activeAlerts: [],
  };
  const bySchedule = new Map<string, Snapshot>();
  for (const snapshot of snapshots) bySchedule.set(snapshot.schedule, snapshot);

  // associate_id -> state -> count; a Map keeps the first-seen order stable across scrapes.
  const counts = new Map<string, Map<string, number>>();
  const exportedTaskIds = new Set<string>();

  for (const schedule of opts.schedules) {
    const snapshot = bySchedule.get(schedule);
    const labels = { schedule };
    // A maintenance poll failed without counting as a failure, so it is checked on its own.
    const up = snapshot !== undefined && snapshot.consecutiveFailures === 0 && snapshot.maintenance === null && snapshot.lastSuccessAt !== null;
    out.up.push({ labels, value: up ? 1 : 0 });
    out.maintenance.push({ labels, value: snapshot?.maintenance ? 1 : 0 });
    if (!snapshot) continue;
    if (snapshot.lastSuccessAt !== null) out.lastSuccessfulPoll.push({ labels, value: seconds(snapshot.lastSuccessAt) });
    if (snapshot.lastPollAt !== null) out.lastPoll.push({ labels, value: seconds(snapshot.lastPollAt) });
    out.consecutiveFailures.push({ labels, value: snapshot.consecutiveFailures });

    const alertCounts = new Map<AlertKind, number>(ALERT_KINDS.map((kind) => [kind, 0]));
    for (const alert of Object.values(snapshot.alerts)) alertCounts.set(alert.kind, (alertCounts.get(alert.kind) ?? 0) + 1);
    for (const [kind, value] of alertCounts) out.activeAlerts.push({ labels: { schedule, kind }, value });

    const stalled = stalledTaskIds(snapshot);
    for (const record of Object.values(snapshot.tasks)) {
      const { task } = record;
      const associate = String(task.associateId);
      let perState = counts.get(associate);
      if (!perState) {
        perState = new Map(KNOWN_STATES.map((state) => [state, 0]));
        counts.set(associate, perState);
      }
      perState.set(task.state, (perState.get(task.state) ?? 0) + 1);

      const taskId = String(task.id);
      // An associate belongs to one schedule, so a task id appears once; guard against duplicate series anyway.
      if (exportedTaskIds.has(taskId) || !isTaskExported(record, opts.now, opts.finishedRetentionMs)) continue;
      exportedTaskIds.add(taskId);

      const taskLabels = { associate_id: associate, task_id: taskId, task_name: task.name };
      const states: readonly string[] = isKnownState(task.state) ? KNOWN_STATES : [...KNOWN_STATES, task.state];
      for (const state of states) {
        out.taskState.push({ labels: { ...taskLabels, state }, value: state === task.state ? 1 : 0 });
      }
      if (task.progressPercent !== null) out.taskProgressRatio.push({ labels: taskLabels, value: task.progressPercent / 100 });
      out.taskStalled.push({ labels: taskLabels, value: stalled.has(taskId) ? 1 : 0 });
      if (task.lastStarted !== null) out.taskLastStarted.push({ labels: taskLabels, value: seconds(task.lastStarted) });
      if (task.startCount !== null) out.taskStarts.push({ labels: taskLabels, value: task.startCount });
      out.taskProgressChanged.push({ labels: taskLabels, value: seconds(record.progressSince) });
      out.taskStateChanged.push({ labels: taskLabels, value: seconds(record.stateSince) });
    }
  }

  for (const [associate, perState] of counts) {
    for (const [state, value] of perState) out.tasks.push({ labels: { associate_id: associate, state }, value });
  }
  return out;
}
