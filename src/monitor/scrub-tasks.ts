/**
 * SuperOffice's text as it enters the product, scrubbed of registered secrets: a server that echoes the
 * ticket (or any other secret) into a task's name, description or state never gets it into the snapshot
 * in Redis, a mail, a metric label, a log line or an API answer, since they all start from these tasks.
 */
import type { BatchTaskInfo } from '../core/task.ts';
import { scrubSecrets, secrets } from '../redact/secrets.ts';
import { yieldToLoop } from '../runtime/event-loop.ts';

const TEXT_FIELDS = [
  'name',
  'state',
  'context',
  'result',
  'description',
  'response',
  'request',
  'progressDescription',
  'databaseSerialNumber',
] as const;

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

/** Tasks scrubbed between two turns of the event loop: 100k tasks give /healthz, /metrics and signals ten chances to run. */
export const SCRUB_CHUNK = 10_000;

/** The tasks scrubbed, a chunk at a time; costs nothing while no secret is registered. */
export async function scrubTasks(tasks: BatchTaskInfo[]): Promise<BatchTaskInfo[]> {
  if (secrets.size === 0) return tasks;
  if (tasks.length <= SCRUB_CHUNK) return tasks.map(scrubTask);
  const scrubbed: BatchTaskInfo[] = [];
  for (let start = 0; start < tasks.length; start += SCRUB_CHUNK) {
    if (start > 0) await yieldToLoop();
    const end = Math.min(start + SCRUB_CHUNK, tasks.length);
    for (let i = start; i < end; i++) scrubbed.push(scrubTask(tasks[i]!));
  }
  return scrubbed;
}
