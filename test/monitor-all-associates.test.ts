import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/types.ts';
import { configuredNotifier } from '../src/daemon/configured-notifier.ts';
import { createLogger } from '../src/log.ts';
import { createMetrics } from '../src/metrics/registry.ts';
import { SnapshotRefresher } from '../src/metrics/snapshot-view.ts';
import { SnapshotCache } from '../src/store/snapshot-cache.ts';
import { pollSchedule, type PollDeps } from '../src/monitor/poll.ts';
import { UnreadableTaskLog } from '../src/monitor/unreadable-log.ts';
import type { Notifier } from '../src/notify/notifier.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';

/**
 * `associates: all` next to a schedule with a list, over HTTP against the simulator, with the real notifier
 * and a real SMTP server: each task is watched, mailed and exported by exactly one schedule.
 */

const LISTED = 101;
const UNLISTED = 205;
const SYSTEM = 0;

function configFor(simulatorUrl: string, redisUrl: string, smtpUrl: string): Config {
  return parseConfig(`
superoffice:
  url: ${simulatorUrl}
  username: demo
  password: demo
  timeout: 5s
redis:
  url: ${redisUrl}
  prefix: all-routing
schedules:
  - name: sales
    associates: [${LISTED}, 102]
    every: 60s
    mailTo: [sales-ops@example.com]
  - name: everything
    associates: all
    includeSystemTasks: true
    every: 60s
    mailTo: [all-tasks@example.com]
mail:
  smtp: ${smtpUrl}
  from: "batchwatch <bw@example.com>"
  to: [ops@example.com]
  retryDelay: 1s
`);
}

/** Log lines as parsed JSON objects. */
function memoryLog(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return createLogger('warn', sink);
}

describe('associates: all routes every task to exactly one schedule', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let sim: Simulator;
  let smtp: TestSmtpServer;
  let notifier: Notifier;

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    sim = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
  });
  after(async () => {
    await notifier?.close();
    await smtp.stop();
    await sim.close();
    redis.disconnect();
    await redisServer.close();
  });

  it('listed associate -> its own schedule; unlisted and system tasks -> the all schedule; a bad task is left out', async () => {
    const config = configFor(sim.url, redisServer.url, smtp.url);
    const names = config.schedules.map((s) => s.name);
    // The daemon's wiring: the poll's store and the metrics share one in-process copy of the snapshots.
    const cache = new SnapshotCache();
    const store = new SnapshotStore(redis, config.redis.prefix, cache);
    const view = new SnapshotRefresher({ cache, refresh: (schedules) => store.loadAll(schedules), schedules: names });
    const metrics = createMetrics({ snapshots: view, schedules: names, processMetrics: false });
    const { instruments } = metrics;
    const logLines: Record<string, unknown>[] = [];
    const log = memoryLog(logLines);
    notifier = configuredNotifier(config, log, instruments);
    await notifier.start();
    const client = createSuperOfficeClient(config.superoffice);
    const deps: PollDeps = {
      source: client,
      store,
      sink: notifier,
      rules: config.rules,
      instruments,
      log,
      unreadableLog: new UnreadableTaskLog(),
    };
    const pollAll = async () => {
      const reports = [];
      for (const schedule of config.schedules) reports.push(await pollSchedule(schedule, deps));
      return reports;
    };

    assert.match(await metrics.text(), /batchwatch_tasks_unreadable_total\{schedule="everything"\} 0/);
    const run = { state: 'Started', startCount: 1, lastStarted: Date.now() - 60_000, progressPercent: 10 } as const;
    sim.upsertTask({ id: 11, associateId: LISTED, name: 'ImportContacts', ...run });
    sim.upsertTask({ id: 12, associateId: UNLISTED, name: 'MailMerge', ...run });
    sim.upsertTask({ id: 13, associateId: SYSTEM, name: 'FreeTextIndex', isSystemTask: true, ...run });
    sim.upsertTask({ id: 14, associateId: 206, name: 'ReportPrinting', ...run });
    const first = await pollAll();
    assert.deepEqual(
      first.map((r) => [r.schedule, r.result, Object.keys(r.snapshot.tasks)]),
      [
        ['sales', 'success', ['11']],
        ['everything', 'success', ['12', '13', '14']],
      ],
    );
    assert.deepEqual(
      sim.stats.requests
        .slice(-3)
        .map((r) => JSON.stringify(r.state ?? r.associateIds))
        .sort(),
      ['"All"', `[${SYSTEM}]`, `[${LISTED},102]`],
      'sales asks by associates; everything asks by State=All, plus associate 0 (concurrently)',
    );

    // Every task fails; task 14 also cannot be read any more (its LastStarted is not a date).
    const again = { state: 'Failed', startCount: 2, lastStarted: Date.now(), response: 'boom' } as const;
    for (const [id, associateId] of [
      [11, LISTED],
      [12, UNLISTED],
      [13, SYSTEM],
      [14, 206],
    ] as const)
      sim.upsertTask({ id, associateId, ...again });
    sim.corruptField(14, 'LastStarted', 'yesterday');
    const second = await pollAll();
    assert.deepEqual(
      second.map((r) => [r.schedule, r.result, r.events.map((e) => `${e.kind} ${e.subject}`)]),
      [
        ['sales', 'success', ['failed 11']],
        ['everything', 'success', ['failed 12', 'failed 13']],
      ],
    );
    const everything = second[1];
    assert.ok(everything?.outcome.ok);
    assert.deepEqual(everything.outcome.unreadable, [
      { id: 14, field: 'LastStarted', problem: 'expected an xs:dateTime, got "yesterday"' },
    ]);
    assert.equal(everything.snapshot.tasks['14']?.task.state, 'Started', 'the unreadable task keeps its last known record');

    const messages = await smtp.waitForMessages(2);
    const to = (address: string) => messages.filter((m) => m.envelope.rcptTo.includes(address));
    const sales = to('sales-ops@example.com');
    const all = to('all-tasks@example.com');
    assert.equal(sales.length, 1);
    assert.equal(all.length, 1);
    assert.equal(sales[0]?.parsed.headers.get('x-batchwatch-events'), 'failed=11');
    assert.equal(all[0]?.parsed.headers.get('x-batchwatch-events'), 'failed=12,13');
    assert.equal(all[0]?.parsed.headers.get('x-batchwatch-schedule'), 'everything');
    const text = all[0]?.parsed.text ?? '';
    assert.match(text, /Associate:?\s+system/, 'the system task is shown as "system"');
    assert.match(text, new RegExp(`Associate:?\\s+${UNLISTED}`));

    // A third round: nothing new. Once both polls are done and the queue is empty, still exactly two mails.
    const third = await pollAll();
    assert.deepEqual(
      third.flatMap((r) => r.events),
      [],
    );
    for (let i = 0; i < 200 && (await notifier.depth()) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await notifier.depth(), 0);
    assert.equal(smtp.messages.length, 2);

    // Exported once each, with the real associate id (0 for the system task); the bad task counted per poll, logged once.
    await metrics.settled();
    const metricsText = await metrics.text();
    metrics.close();
    const failedSeries = metricsText
      .split('\n')
      .filter((l) => l.startsWith('superoffice_batch_task_state{') && l.includes('state="Failed"') && l.endsWith(' 1'));
    assert.deepEqual(failedSeries.map((l) => /task_id="(\d+)"/.exec(l)?.[1]).sort(), ['11', '12', '13']);
    assert.ok(
      failedSeries.some((l) => l.includes('associate_id="0"') && l.includes('task_id="13"')),
      metricsText,
    );
    assert.match(metricsText, /batchwatch_tasks_unreadable_total\{schedule="everything"\} 2/);
    assert.match(metricsText, /batchwatch_tasks_unreadable_total\{schedule="sales"\} 0/);
    const warnings = logLines.filter((l) => l.taskId === 14);
    assert.equal(warnings.length, 1, JSON.stringify(logLines));
    assert.equal(warnings[0]?.field, 'LastStarted');
    assert.match(String(warnings[0]?.problem), /yesterday/);

    // Readable again: the failure of task 14 is found then, by the all schedule.
    sim.corruptField(14, 'LastStarted', null);
    const fourth = await pollAll();
    assert.deepEqual(
      fourth.map((r) => r.events.map((e) => `${e.kind} ${e.subject}`)),
      [[], ['failed 14']],
    );
  });
});
