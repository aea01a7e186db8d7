/**
 * Every series derived from the snapshots, defined in one place: the schedule-level families (one
 * entry each; add new ones here) and the per-task families. Pure: values come from plain data.
 */
import { ALERT_KINDS, type AlertKind, type Snapshot, type TaskRecord } from '../core/model.ts';
import { FINISHED_STATES, KNOWN_STATES, RUNNING_STATES } from '../core/task.ts';
import { labelText, sampleLine } from './exposition.ts';

const seconds = (ms: number) => ms / 1000;

export interface ScheduleSample {
  /** Labels besides `schedule`. */
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface ScheduleFamily {
  name: string;
  help: string;
  /** Samples for one configured schedule; `snapshot` is undefined before its first poll. */
  samples(snapshot: Snapshot | undefined): ScheduleSample[];
}

/** Schedule-level families, in output order. */
export const SCHEDULE_FAMILIES: readonly ScheduleFamily[] = [
  {
    name: 'batchwatch_superoffice_up',
    help: '1 if the last poll of the schedule succeeded, else 0.',
    // A maintenance poll failed without counting as a failure, so it is checked on its own.
    samples: (s) => [
      { value: s !== undefined && s.consecutiveFailures === 0 && s.maintenance === null && s.lastSuccessAt !== null ? 1 : 0 },
    ],
  },
  {
    name: 'batchwatch_superoffice_maintenance',
    help: '1 while the tenant reports planned maintenance (failed polls are then not an outage), else 0.',
    samples: (s) => [{ value: s?.maintenance ? 1 : 0 }],
  },
  {
    name: 'batchwatch_last_successful_poll_timestamp_seconds',
    help: 'Unix time of the last successful poll of the schedule.',
    samples: (s) => (s?.lastSuccessAt != null ? [{ value: seconds(s.lastSuccessAt) }] : []),
  },
  {
    name: 'batchwatch_last_poll_timestamp_seconds',
    help: 'Unix time of the last poll of the schedule, successful or not.',
    samples: (s) => (s?.lastPollAt != null ? [{ value: seconds(s.lastPollAt) }] : []),
  },
  {
    name: 'batchwatch_consecutive_poll_failures',
    help: 'Failed polls of the schedule since its last successful one (polls during tenant maintenance are not counted).',
    samples: (s) => (s ? [{ value: s.consecutiveFailures }] : []),
  },
  {
    name: 'batchwatch_active_alerts',
    help: 'Alerts currently firing, per schedule and kind.',
    samples: (s) => {
      if (!s) return [];
      const counts = new Map<AlertKind, number>(ALERT_KINDS.map((kind) => [kind, 0]));
      for (const alert of Object.values(s.alerts)) counts.set(alert.kind, (counts.get(alert.kind) ?? 0) + 1);
      return [...counts].map(([kind, value]) => ({ labels: { kind }, value }));
    },
  },
];

/** A task that qualifies for per-task series: its record, and whether alerts fire for it. */
export interface TaskRow {
  id: string;
  record: TaskRecord;
  stalled: boolean;
  /** Any task alert (failed, stalled, stuck) fires: such tasks are exported first when the cap bites. */
  alerting: boolean;
  /** Exported until then (unix ms); Infinity while the task is unfinished. */
  exportUntil: number;
  /**
   * Its lines, one string per TASK_FAMILIES entry, made in the background once the task is to be exported
   * (null until then: a task left out by the cap costs no text).
   */
  text: readonly string[] | null;
}

export interface TaskFamily {
  name: string;
  help: string;
  /** The lines of one task (none when it lacks the value); `labels` as taskLabels made them. */
  lines(row: TaskRow, labels: string): string;
}

const STATE_SUFFIXES = KNOWN_STATES.map((state) => [state, `,state="${state}"} `] as const);

function single(name: string, help: string, value: (row: TaskRow) => number | null): TaskFamily {
  return {
    name,
    help,
    lines: (row, labels) => {
      const v = value(row);
      return v === null ? '' : sampleLine(name, labels, v);
    },
  };
}

/** Per-task families, in output order. */
export const TASK_FAMILIES: readonly TaskFamily[] = [
  {
    name: 'superoffice_batch_task_state',
    help: 'Batch task state: 1 for the current State, 0 for the other known states.',
    lines: (row, labels) => {
      const current = row.record.task.state;
      const prefix = `superoffice_batch_task_state{${labels}`;
      let text = '';
      let known = false;
      for (const [state, suffix] of STATE_SUFFIXES) {
        const on = state === current;
        known ||= on;
        text += `${prefix}${suffix}${on ? '1' : '0'}\n`;
      }
      // A state newer SuperOffice versions send gets its own series.
      return known ? text : `${text}${prefix},${labelText({ state: current })}} 1\n`;
    },
  },
  single('superoffice_batch_task_progress_ratio', 'Batch task ProgressPercent / 100.', (r) =>
    r.record.task.progressPercent === null ? null : r.record.task.progressPercent / 100,
  ),
  single('superoffice_batch_task_stalled', '1 while a stalled alert is firing for the task, else 0.', (r) => (r.stalled ? 1 : 0)),
  single('superoffice_batch_task_last_started_timestamp_seconds', 'Batch task LastStarted as unix time.', (r) =>
    r.record.task.lastStarted === null ? null : seconds(r.record.task.lastStarted),
  ),
  single('superoffice_batch_task_starts', 'Batch task StartCount as reported by SuperOffice.', (r) => r.record.task.startCount),
  single(
    'superoffice_batch_task_progress_changed_timestamp_seconds',
    'Unix time the task progress last moved (or the task entered a running state).',
    (r) => seconds(r.record.progressSince),
  ),
  single(
    'superoffice_batch_task_state_changed_timestamp_seconds',
    'Unix time the task entered its current State (or was first seen).',
    (r) => seconds(r.record.stateSince),
  ),
];

export const TASK_COUNT_FAMILY = {
  name: 'superoffice_batch_tasks',
  help: 'Batch tasks SuperOffice currently returns, per associate and State.',
} as const;

/** A task is exported while unfinished, and for `finishedRetentionMs` after it entered a finished state. */
export function exportUntil(record: TaskRecord, finishedRetentionMs: number): number {
  return FINISHED_STATES.includes(record.task.state) ? record.stateSince + finishedRetentionMs : Infinity;
}

export function isTaskExported(record: TaskRecord, now: number, finishedRetentionMs: number): boolean {
  return now < exportUntil(record, finishedRetentionMs);
}

export function taskLabels(record: TaskRecord): string {
  return labelText({ associate_id: String(record.task.associateId), task_id: String(record.task.id), task_name: record.task.name });
}

/**
 * Which tasks keep their series when there are more than the cap allows, most useful first: tasks with
 * an alert, then running, then queued (and unknown states), then finished ones.
 */
export function exportClass(row: Pick<TaskRow, 'alerting' | 'record'>): number {
  if (row.alerting) return 0;
  const state = row.record.task.state;
  if (RUNNING_STATES.includes(state)) return 1;
  if (FINISHED_STATES.includes(state)) return 3;
  return 2;
}

/**
 * A string built by many concatenations is a tree of pieces (32 bytes each) until something reads its
 * characters; reading one makes V8 flatten it into one piece, and the tree becomes garbage. Lines kept for
 * many scrapes are flattened once here: 25,000 exported tasks hold 40 MiB of heap instead of 56 MiB.
 */
function flattened(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** The lines of every per-task family for one task. */
export function renderTask(row: TaskRow): readonly string[] {
  const labels = taskLabels(row.record);
  return TASK_FAMILIES.map((family) => flattened(family.lines(row, labels)));
}
