/** Cost of scrubbing: SuperOffice's task text as a poll receives it, and an HTTP answer, with the secrets a real config registers. */
import { scrubTasks } from '../src/monitor/scrub-tasks.ts';
import { SecretSet, secrets } from '../src/redact/secrets.ts';
import { task } from '../test/helpers/tasks.ts';
import { ms } from './stats.ts';

export interface ScrubBenchResult {
  tasks: number;
  secrets: number;
  scrubTasksMs: number;
  textMiB: number;
  scrubTextMs: number;
}

/** A config's secrets: ticket, password, application token, SMTP and Redis passwords, a system user token. */
const CONFIG_SECRETS = ['7T:dGhpcyBpcyBhIHRpY2tldA==', 'hunter2-password!', 'app-token-abcdef123456', 'smtp&password/xyz', 'redis-pw-0123456789', 'SYSTEM-USER-7f3a91c2d4'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export function benchScrub(taskCount: number, runs = 5): ScrubBenchResult {
  for (const secret of CONFIG_SECRETS) secrets.add(secret);
  const tasks = Array.from({ length: taskCount }, (_, i) =>
    task({
      id: i + 1,
      name: `Import contacts from file number ${i} into the CRM (Sales)`,
      description: `Imports the weekly contact list number ${i} from the shared folder`,
      progressDescription: `Row ${i} of 100000`,
      response: i % 10 === 0 ? 'Completed with 3 warnings' : null,
    }),
  );
  const taskTimes: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    scrubTasks(tasks);
    taskTimes.push(performance.now() - start);
  }
  const set = new SecretSet();
  for (const secret of CONFIG_SECRETS) set.add(secret);
  const line = 'superoffice_batch_task_state{associate_id="101",task_id="4711",task_name="Import contacts from file",state="Started"} 1\n';
  const text = line.repeat(Math.ceil((16 * 1024 * 1024) / line.length));
  const textTimes: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    set.scrub(text);
    textTimes.push(performance.now() - start);
  }
  return { tasks: taskCount, secrets: CONFIG_SECRETS.length, scrubTasksMs: median(taskTimes), textMiB: text.length / 1024 / 1024, scrubTextMs: median(textTimes) };
}

export function scrubRow(r: ScrubBenchResult): string[] {
  return [String(r.tasks), String(r.secrets), ms(r.scrubTasksMs), `${r.textMiB.toFixed(0)} MiB`, ms(r.scrubTextMs)];
}
