/** How a task differs from its record of the previous poll, and the record's next timers. */
import type { BatchTaskInfo, TaskRecord } from './model.ts';
import { sameTaskInfo } from './task.ts';

/** How a task in this poll differs from its record of the previous successful poll. */
export interface TaskChange {
  firstSight: boolean;
  /** StartCount or LastStarted changed: SuperOffice ran the task again. */
  newRun: boolean;
  stateChanged: boolean;
  /** ProgressPercent or ProgressDescription changed, in either direction. */
  progressChanged: boolean;
}

export function diffTask(before: TaskRecord | undefined, task: BatchTaskInfo): TaskChange {
  if (!before) return { firstSight: true, newRun: false, stateChanged: false, progressChanged: false };
  const old = before.task;
  return {
    firstSight: false,
    newRun: old.startCount !== task.startCount || old.lastStarted !== task.lastStarted,
    stateChanged: old.state !== task.state,
    progressChanged: old.progressPercent !== task.progressPercent || old.progressDescription !== task.progressDescription,
  };
}

/**
 * Milliseconds to move a carried-over timer forward. After failed polls, the time between the last
 * successful poll and this one is not counted towards stallAfter/queuedTimeout: what could not be
 * observed is not held against the task (see evaluate.ts).
 */
export interface TimerShift {
  progress: number;
  state: number;
}

/** The task's record after this poll; `before` itself (same object) when the poll changed nothing about it. */
export function nextRecord(
  before: TaskRecord | undefined,
  task: BatchTaskInfo,
  change: TaskChange,
  now: number,
  shift: TimerShift,
): TaskRecord {
  if (!before) return { task, firstSeenAt: now, stateSince: now, progressSince: now };
  // A state change restarts the progress timer too: (re)entering Started/Aquired starts a fresh stall clock.
  const stateReset = change.newRun || change.stateChanged;
  const progressReset = stateReset || change.progressChanged;
  const stateSince = stateReset ? now : carry(before.stateSince, shift.state, now);
  const progressSince = progressReset ? now : carry(before.progressSince, shift.progress, now);
  // Nothing changed: the very same record, so the snapshot store and the metrics can skip it by identity.
  if (stateSince === before.stateSince && progressSince === before.progressSince && sameTaskInfo(before.task, task)) return before;
  return { task, firstSeenAt: before.firstSeenAt, stateSince, progressSince };
}

function carry(since: number, shift: number, now: number): number {
  return shift > 0 ? Math.min(now, since + shift) : since;
}
