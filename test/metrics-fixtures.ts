import type { ActiveAlert, BatchTaskInfo, Snapshot, TaskRecord } from '../src/core/model.ts';
import { emptySnapshot } from '../src/core/model.ts';
import { task as baseTask, type TaskInput } from './helpers/tasks.ts';

/** The shared task builder, with StartCount unknown unless a test sets it. */
export function task(overrides: TaskInput): BatchTaskInfo {
  return baseTask({ startCount: null, ...overrides });
}

export function record(info: BatchTaskInfo, times: Partial<Omit<TaskRecord, 'task'>> = {}): TaskRecord {
  const at = times.firstSeenAt ?? Date.now();
  return { task: info, firstSeenAt: at, stateSince: times.stateSince ?? at, progressSince: times.progressSince ?? at };
}

export function stalledAlert(taskId: number, firedAt: number): ActiveAlert {
  return { kind: 'stalled', subject: String(taskId), eventId: `stalled-${taskId}`, firedAt, lastNotifiedAt: firedAt, repeats: 0 };
}

export function snapshot(schedule: string, parts: Partial<Omit<Snapshot, 'schedule' | 'tasks'>> & { tasks?: TaskRecord[] } = {}): Snapshot {
  const { tasks = [], ...rest } = parts;
  return {
    ...emptySnapshot(schedule),
    version: 1,
    ...rest,
    tasks: Object.fromEntries(tasks.map((r) => [String(r.task.id), r])),
  };
}
