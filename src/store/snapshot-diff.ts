/** What a commit has to write: the tasks and alerts whose objects differ from the base snapshot's (evaluate keeps unchanged ones). */
import type { ActiveAlert, Snapshot, TaskRecord } from '../core/model.ts';

export interface SnapshotChanges {
  taskWrites: [id: string, record: TaskRecord][];
  taskDeletes: string[];
  alertWrites: [key: string, alert: ActiveAlert][];
  alertDeletes: string[];
}

function changedEntries<T>(base: Record<string, T> | null, next: Record<string, T>): { writes: [string, T][]; deletes: string[] } {
  const writes: [string, T][] = [];
  const deletes: string[] = [];
  for (const key in next) {
    const value = next[key]!;
    if (base === null || base[key] !== value) writes.push([key, value]);
  }
  if (base !== null) {
    for (const key in base) if (!Object.hasOwn(next, key)) deletes.push(key);
  }
  return { writes, deletes };
}

/** `base` null: everything is written. */
export function changesBetween(base: Snapshot | null, next: Snapshot): SnapshotChanges {
  const tasks = changedEntries(base?.tasks ?? null, next.tasks);
  const alerts = changedEntries(base?.alerts ?? null, next.alerts);
  return { taskWrites: tasks.writes, taskDeletes: tasks.deletes, alertWrites: alerts.writes, alertDeletes: alerts.deletes };
}
