/** Resolution reasons in the words an operator reads in the mail. */
import { SUCCESS_STATES } from './task.ts';
import type { BatchTaskInfo, TaskRecord } from './model.ts';
import type { TaskChange } from './task-diff.ts';

/** Resolution reasons, in words an operator reads in the mail. */

export const VANISHED = 'task vanished';

export function progressText(task: BatchTaskInfo): string {
  const percent = task.progressPercent === null ? 'no progress' : `${task.progressPercent}%`;
  return task.progressDescription ? `${percent} "${task.progressDescription}"` : percent;
}

export function restartText(before: BatchTaskInfo, task: BatchTaskInfo): string {
  if (before.startCount !== task.startCount) {
    return `task restarted (StartCount ${before.startCount ?? 'none'} -> ${task.startCount ?? 'none'})`;
  }
  return 'task restarted (LastStarted changed)';
}

export function stateChangeText(from: string, to: string): string {
  if (SUCCESS_STATES.includes(to)) return `task succeeded (${to})`;
  if (to === 'Failed') return 'task failed';
  return `state changed from ${from} to ${to}`;
}

/** Why a stalled alert ends, or null while the task is still running with the same progress. */
export function stallEnd(before: TaskRecord | undefined, task: BatchTaskInfo, change: TaskChange, running: boolean): string | null {
  if (!before) return 'task reappeared';
  if (change.stateChanged) return stateChangeText(before.task.state, task.state);
  if (change.newRun) return restartText(before.task, task);
  if (!running) return `task is ${task.state}`;
  if (change.progressChanged) return `progress changed from ${progressText(before.task)} to ${progressText(task)}`;
  return null;
}

/** Why a stuck alert ends, or null while the task is still New in the same run. */
export function stuckEnd(before: TaskRecord | undefined, task: BatchTaskInfo, change: TaskChange): string | null {
  if (!before) return 'task reappeared';
  // Leaving New normally bumps StartCount too: the state change is the news.
  if (task.state !== 'New') return `task left New (now ${task.state})`;
  if (change.newRun) return restartText(before.task, task);
  return null;
}

export function failedEnd(task: BatchTaskInfo): string | null {
  return SUCCESS_STATES.includes(task.state) ? `task succeeded (${task.state})` : null;
}

export function downEnd(failures: number): string {
  return `SuperOffice answered again after ${failures} failed poll${failures === 1 ? '' : 's'}`;
}
