/** Cost of scrubbing: SuperOffice's task text as a poll receives it, and an HTTP answer, with the secrets a real config registers. */
import { scrubTasks } from '../src/monitor/scrub-tasks.ts';
import { SecretSet, secrets } from '../src/redact/secrets.ts';
import { task } from '../test/helpers/tasks.ts';
import { ms } from './stats.ts';

export interface ScrubBenchResult {
  tasks: number;
  /** Tickets, JWTs and access tokens issued (each replacing the one before in its slot) before the timing. */
  rotations: number;
  secrets: number;
  scrubTasksMs: number;
  textMiB: number;
  scrubTextMs: number;
}

/** A config's secrets: ticket, password, application token, SMTP and Redis passwords, a system user token. */
const CONFIG_SECRETS = [
  '7T:dGhpcyBpcyBhIHRpY2tldA==',
  'hunter2-password!',
  'app-token-abcdef123456',
  'smtp&password/xyz',
  'redis-pw-0123456789',
  'SYSTEM-USER-7f3a91c2d4',
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The rotating slots a long-running daemon fills: OAuth2 access tokens, system user JWTs and tickets. */
const ROTATING_SLOTS = ['mail.oauth2 access token (bench)', 'superoffice.systemUser JWT (bench)', 'superoffice ticket (bench)'];

function rotate(set: SecretSet, rotations: number): void {
  for (let i = 0; i < rotations; i++) {
    const slot = ROTATING_SLOTS[i % ROTATING_SLOTS.length]!;
    set.replace(slot, `${slot.split(' ')[0]}-issued-${i}-${(i * 2654435761).toString(36)}`);
  }
}

export async function benchScrub(taskCount: number, rotations = 0, runs = 5): Promise<ScrubBenchResult> {
  for (const secret of CONFIG_SECRETS) secrets.add(secret);
  rotate(secrets, rotations);
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
    await scrubTasks(tasks);
    taskTimes.push(performance.now() - start);
  }
  const set = new SecretSet();
  for (const secret of CONFIG_SECRETS) set.add(secret);
  rotate(set, rotations);
  const line = 'superoffice_batch_task_state{associate_id="101",task_id="4711",task_name="Import contacts from file",state="Started"} 1\n';
  const text = line.repeat(Math.ceil((16 * 1024 * 1024) / line.length));
  const textTimes: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    set.scrub(text);
    textTimes.push(performance.now() - start);
  }
  return {
    tasks: taskCount,
    rotations,
    secrets: secrets.size,
    scrubTasksMs: median(taskTimes),
    textMiB: text.length / 1024 / 1024,
    scrubTextMs: median(textTimes),
  };
}

export function scrubRow(r: ScrubBenchResult): string[] {
  return [String(r.tasks), String(r.rotations), String(r.secrets), ms(r.scrubTasksMs), `${r.textMiB.toFixed(0)} MiB`, ms(r.scrubTextMs)];
}
