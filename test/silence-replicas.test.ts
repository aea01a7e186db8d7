import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { ScheduleConfig } from '../src/config/types.ts';
import { muteFor } from '../src/daemon/configured-notifier.ts';
import { createLogger } from '../src/log.ts';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule } from '../src/monitor/poll.ts';
import { NotificationHistory } from '../src/notify/history.ts';
import { createNotifier, type Notifier } from '../src/notify/notifier.ts';
import { PollScheduler } from '../src/schedule/poll-scheduler.ts';
import { SilenceStore } from '../src/silence/silence-store.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { superOfficeConfig, testRules } from './helpers/monitor.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

const fast: ScheduleConfig = { name: 'fast', associates: [101, 102], timing: { every: 200 } };

/** A whole replica: BullMQ poll scheduler and notifier with the mute stage, on its own connections. */
interface Replica {
  close(): Promise<void>;
}

describe('silences across replicas, restarts and SMTP outages (real Redis, real SMTP)', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  const log = createLogger('silent');

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
  });
  after(async () => {
    redis.disconnect();
    await smtp.stop();
    await simulator.close();
    await redisServer.close();
  });

  async function replica(prefix: string): Promise<Replica> {
    const connections: Redis[] = [];
    const connect = () => {
      const connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      connections.push(connection);
      return connection;
    };
    const notifier: Notifier = createNotifier({
      connect,
      prefix,
      mail: { enabled: true, smtp: smtp.url, from: 'bw@example.com', to: ['ops@example.com'], retryDelay: 200, retryFor: 120_000 },
      recipientsFor: () => ['ops@example.com'],
      hostname: 'bw-replica',
      mute: muteFor(prefix, []),
    });
    const commands = connect();
    const store = new SnapshotStore(commands, prefix);
    const silences = new SilenceStore(commands, prefix);
    const deps = {
      source: createSuperOfficeClient(superOfficeConfig(simulator.url)),
      store,
      sink: notifier,
      rules: testRules,
      instruments: noopInstruments,
      log,
      silences: () => silences.all(),
      windows: [],
    };
    const scheduler = new PollScheduler({
      redisUrl: redisServer.url,
      prefix,
      schedules: [fast],
      store,
      runPoll: (s) => pollSchedule(s, deps),
      lockTtlMs: 30_000,
      log,
    });
    await scheduler.register();
    scheduler.start();
    await notifier.start();
    return {
      async close() {
        await Promise.all([scheduler.close(), notifier.close()]);
        for (const connection of connections) connection.disconnect();
      },
    };
  }

  const version = async (prefix: string) => (await new SnapshotStore(redis, prefix).load('fast')).snapshot.version;
  /** N more polls committed, by whichever replica. */
  async function morePolls(prefix: string, n: number): Promise<void> {
    const from = await version(prefix);
    await waitUntil(async () => (await version(prefix)) >= from + n, 20_000, `${n} more polls`);
  }
  const statuses = async (prefix: string) => (await new NotificationHistory(redis, prefix).recent()).reverse().map((e) => e.status);
  const mailsAbout = (taskId: number) =>
    smtp.messages.filter((m) => (m.parsed.headers.get('x-batchwatch-events') as string | undefined)?.includes(String(taskId)));

  it('two replicas, one restarting while the silence lasts: the alert is mailed once when the silence ends', async () => {
    const prefix = 'rep2';
    const silences = new SilenceStore(redis, prefix);
    const silence = await silences.add({
      matchers: { taskId: 6001 },
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      comment: 'maintenance',
      author: 'ops',
    });
    let a = await replica(prefix);
    const b = await replica(prefix);
    simulator.upsertTask({ id: 6001, associateId: 101, name: 'Nightly', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
    await waitUntil(async () => (await statuses(prefix)).includes('silenced'), 15_000, 'the failure to be muted');
    await morePolls(prefix, 5);

    await a.close(); // a restart of one replica during the silence
    a = await replica(prefix);
    await morePolls(prefix, 3);
    assert.equal(mailsAbout(6001).length, 0, 'nothing mailed while silenced');

    await silences.expire(silence.id, 'ops');
    await waitUntil(() => mailsAbout(6001).length >= 1, 15_000, 'the release mail');
    await morePolls(prefix, 10);
    await Promise.all([a.close(), b.close()]);
    const mails = mailsAbout(6001);
    assert.equal(mails.length, 1, 'exactly one mail across replicas and the restart');
    assert.match(mails[0]!.parsed.subject ?? '', /failed \(silence ended\): task 6001/);
    assert.deepEqual(
      (await statuses(prefix)).filter((s) => s !== 'already_sent'),
      ['silenced', 'sent'],
    );
    assert.equal(await redis.hlen(`${prefix}:{sched:fast}:muted`), 0, 'released: nothing left muted');
    simulator.removeTask(6001);
  });

  it('every replica down when the silence ends, SMTP down when they come back: mailed once when SMTP returns', async () => {
    const prefix = 'rep-restart';
    const silences = new SilenceStore(redis, prefix);
    const silence = await silences.add({
      matchers: { task: 'Weekly*' },
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      comment: 'x',
      author: 'ops',
    });
    const first = await replica(prefix);
    simulator.upsertTask({ id: 6002, associateId: 102, name: 'WeeklyExport', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
    await waitUntil(async () => (await statuses(prefix)).includes('silenced'), 15_000, 'the failure to be muted');
    await first.close();

    await silences.expire(silence.id, 'ops');
    await smtp.stop();
    const [c, d] = [await replica(prefix), await replica(prefix)];
    await waitUntil(async () => (await statuses(prefix)).includes('retrying'), 15_000, 'the release to be tried while SMTP is down');
    await morePolls(prefix, 5);
    await smtp.restart();
    await waitUntil(() => mailsAbout(6002).length >= 1, 20_000, 'the release mail once SMTP is back');
    await morePolls(prefix, 10);
    await Promise.all([c.close(), d.close()]);
    assert.equal(mailsAbout(6002).length, 1, 'exactly one mail');
    assert.equal(await redis.hlen(`${prefix}:{sched:fast}:muted`), 0, 'released: nothing left muted');
    simulator.removeTask(6002);
  });
});
