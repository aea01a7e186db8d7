/**
 * SuperOffice's text as it enters the product, scrubbed of registered secrets: a server that echoes the
 * ticket (or any other secret) into a task's name, description or state never gets it into the snapshot
 * in Redis, a mail, a metric label, a log line or an API answer, since they all start from these tasks.
 */
import type { BatchTaskInfo } from '../core/task.ts';
import { scrubSecrets, secrets } from '../redact/secrets.ts';

const TEXT_FIELDS = ['name', 'state', 'context', 'result', 'description', 'response', 'request', 'progressDescription', 'databaseSerialNumber'] as const;

/** The task with every text scrubbed; the same object when nothing had to change. */
export function scrubTask(task: BatchTaskInfo): BatchTaskInfo {
  let copy: BatchTaskInfo | null = null;
  for (const field of TEXT_FIELDS) {
    const value = task[field];
    if (typeof value !== 'string') continue;
    const scrubbed = scrubSecrets(value);
    if (scrubbed !== value) {
      copy ??= { ...task };
      (copy as Record<(typeof TEXT_FIELDS)[number], string | null>)[field] = scrubbed;
    }
  }
  const parameters = Object.entries(task.parameterObject);
  if (parameters.some(([key, value]) => scrubSecrets(key) !== key || scrubSecrets(value) !== value)) {
    copy ??= { ...task };
    copy.parameterObject = Object.fromEntries(parameters.map(([key, value]) => [scrubSecrets(key), scrubSecrets(value)]));
  }
  return copy ?? task;
}

/** The tasks scrubbed; costs nothing while no secret is registered. */
export function scrubTasks(tasks: BatchTaskInfo[]): BatchTaskInfo[] {
  return secrets.size === 0 ? tasks : tasks.map(scrubTask);
}
