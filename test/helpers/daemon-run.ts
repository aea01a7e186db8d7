// The whole poll -> mail path in-process (daemon + simulator + SMTP test server) against a given Redis section, for failover tests.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { startSimulator, type Simulator } from '../../src/simulator/server.ts';
import { runCli } from './cli.ts';
import { startSmtpServer, type ReceivedMessage, type TestSmtpServer } from './smtp.ts';

/** The daemon's JSON log lines, kept for assertions. */
export class LogLines {
  readonly lines: { msg: string; [key: string]: unknown }[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as { msg: string });
  }
  matching(pattern: RegExp): { msg: string; [key: string]: unknown }[] {
    return this.lines.filter((l) => pattern.test(l.msg));
  }
}

export interface DaemonRun {
  /** The config file's text (for running the CLI against the same setup). */
  readonly yaml: string;
  readonly config: Config;
  readonly daemon: Daemon;
  readonly simulator: Simulator;
  readonly smtp: TestSmtpServer;
  readonly logs: LogLines;
  /** HTTP status of /readyz (0 when it does not answer). */
  readyStatus(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A daemon with two schedules (sales: associate 101, support: associate 102) polling every second,
 * mailing to a test SMTP server. `redis` is the YAML of the redis section.
 */
export async function startDaemonRun(redis: string): Promise<DaemonRun> {
  const simulator = await startSimulator({ scenario: 'empty' });
  const smtp = await startSmtpServer();
  const logs = new LogLines();
  try {
    const yaml = `superoffice: { url: "${simulator.url}", username: demo, password: demo, timeout: 3s }
redis: ${redis}
schedules:
  - { name: sales, associates: [101], every: 1s }
  - { name: support, associates: [102], every: 1s }
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com], retryDelay: 200ms }
http: { host: 127.0.0.1, port: 0 }
`;
    const config = parseConfig(yaml, {});
    const daemon = await startDaemon(config, createLogger('debug', logs));
    return {
      yaml,
      config,
      daemon,
      simulator,
      smtp,
      logs,
      readyStatus: () =>
        fetch(`${daemon.httpUrl}/readyz`).then(
          (r) => r.status,
          () => 0,
        ),
      async close() {
        await daemon.close();
        await smtp.stop();
        await simulator.close();
      },
    };
  } catch (error) {
    await smtp.stop();
    await simulator.close();
    throw error;
  }
}

/** How often each event was mailed, as "kind=id" (from the X-Batchwatch-Events headers). */
export function mailedEvents(messages: readonly ReceivedMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const header = message.parsed.headers.get('x-batchwatch-events');
    for (const part of String(header ?? '').split(';')) {
      const [kind = '', ids = ''] = part.trim().split('=');
      for (const id of ids.split(',').filter(Boolean)) counts.set(`${kind}=${id}`, (counts.get(`${kind}=${id}`) ?? 0) + 1);
    }
  }
  return counts;
}

/** Every task in `taskIds` was mailed as failed exactly once, and nothing else was mailed. */
export function assertEachFailureMailedOnce(messages: readonly ReceivedMessage[], taskIds: readonly number[]): void {
  const counts = mailedEvents(messages);
  const twice = [...counts].filter(([, n]) => n > 1).map(([event, n]) => `${event} (${n} times)`);
  assert.deepEqual(twice, [], `events mailed more than once: ${twice.join(', ')}`);
  assert.deepEqual([...counts.keys()].sort(), taskIds.map((id) => `failed=${id}`).sort(), 'each failure mailed, nothing else');
}

/**
 * Makes `count` tasks fail one after the other, `everyMs` apart, alternating between the two schedules'
 * associates; calls `at[i]` (awaited, while the daemon keeps polling) just before task i fails.
 */
export async function failTasksOneByOne(
  simulator: Simulator,
  ids: readonly number[],
  everyMs: number,
  at: Record<number, () => Promise<unknown>> = {},
): Promise<void> {
  for (const [index, id] of ids.entries()) {
    await at[index]?.();
    simulator.upsertTask({
      id,
      associateId: index % 2 === 0 ? 101 : 102,
      name: `Export${id}`,
      state: 'Failed',
      lastStarted: Date.now(),
      startCount: 1,
    });
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `batchwatch check` against the run's setup (same Redis, simulator and SMTP server). */
export async function checkRun(run: DaemonRun): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-check-'));
  try {
    const file = join(dir, 'batchwatch.yaml');
    writeFileSync(file, run.yaml);
    return await runCli(['check', '--config', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
