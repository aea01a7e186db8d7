/** Alert matchers shared by silences and maintenance windows: which alerts they apply to (all given matchers ANDed). */
import type { AlertEvent, AlertKind, BatchTaskInfo } from './model.ts';
import { associateLabel } from './task.ts';
import { taskNameMatches } from './task-rules.ts';

export interface AlertMatchers {
  /** Glob on the task name, matched like rules.tasks[].name (src/core/task-rules.ts). */
  task?: string;
  taskId?: number;
  /** AssociateId of the task (0 = system tasks). */
  associate?: number;
  schedule?: string;
  kind?: AlertKind;
}

/** The matcher names, in the order they are shown (CLI flags and API fields use the same names). */
export const MATCHER_KEYS = ['task', 'taskId', 'associate', 'schedule', 'kind'] as const satisfies readonly (keyof AlertMatchers)[];

/** What a matcher looks at: the alert's schedule and kind, and its task (absent for superoffice-down). */
export interface AlertFacts {
  schedule: string;
  kind: AlertKind;
  task?: Pick<BatchTaskInfo, 'id' | 'name' | 'associateId'> | undefined;
}

/** The facts of an event; a resolution is matched by the kind that resolved. */
export function factsOfEvent(event: AlertEvent): AlertFacts {
  return { schedule: event.schedule, kind: event.alertKind, task: event.task };
}

/** True when every given matcher matches. Task matchers never match an alert without a task (superoffice-down). */
export function matchesAlert(matchers: AlertMatchers, facts: AlertFacts): boolean {
  if (matchers.schedule !== undefined && matchers.schedule !== facts.schedule) return false;
  if (matchers.kind !== undefined && matchers.kind !== facts.kind) return false;
  const task = facts.task;
  if (matchers.task !== undefined && (!task || !taskNameMatches(matchers.task, task.name))) return false;
  if (matchers.taskId !== undefined && task?.id !== matchers.taskId) return false;
  if (matchers.associate !== undefined && task?.associateId !== matchers.associate) return false;
  return true;
}

export function hasMatchers(matchers: AlertMatchers): boolean {
  return MATCHER_KEYS.some((key) => matchers[key] !== undefined);
}

/** `task="FreeText*" kind=stalled`, or `everything` for no matchers. */
export function describeMatchers(matchers: AlertMatchers): string {
  const parts = MATCHER_KEYS.flatMap((key) => {
    const value = matchers[key];
    if (value === undefined) return [];
    if (key === 'task') return [`task=${JSON.stringify(value)}`];
    if (key === 'associate') return [`associate=${associateLabel(value as number)}`];
    return [`${key}=${String(value)}`];
  });
  return parts.length === 0 ? 'everything' : parts.join(' ');
}

/** The matchers with only the given keys, in MATCHER_KEYS order (equal matchers serialize equally). */
export function normalizeMatchers(matchers: { [K in keyof AlertMatchers]?: AlertMatchers[K] | undefined }): AlertMatchers {
  const out: AlertMatchers = {};
  if (matchers.task !== undefined) out.task = matchers.task;
  if (matchers.taskId !== undefined) out.taskId = matchers.taskId;
  if (matchers.associate !== undefined) out.associate = matchers.associate;
  if (matchers.schedule !== undefined) out.schedule = matchers.schedule;
  if (matchers.kind !== undefined) out.kind = matchers.kind;
  return out;
}
