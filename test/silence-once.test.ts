import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { episodeOf } from '../src/core/event-id.ts';
import type { NotificationBatch, Rules } from '../src/core/model.ts';
import { muteFor } from '../src/daemon/configured-notifier.ts';
import { createLogger } from '../src/log.ts';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule, type PollDeps } from '../src/monitor/poll.ts';
import { NotificationHistory } from '../src/notify/history.ts';
import { createNotifier, type Notifier } from '../src/notify/notifier.ts';
import { sentLogKey, toldKey } from '../src/notify/sent-log.ts';
import { endedAckKeepMs } from '../src/silence/ack-store.ts';
import { SilenceControls } from '../src/silence/controls.ts';
import { MutedStore } from '../src/silence/muted-store.ts';
import { SilenceStore } from '../src/silence/silence-store.ts';
import { endedAckKey, NOTIFY_QUEUE } from '../src/store/keys.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { salesSchedule, superOfficeConfig } from './helpers/monitor.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { HOUR, MINUTE, rules } from './helpers/tasks.ts';
import { waitUntil } from './helpers/wait.ts';

/**
 * Exactly once around silences and acknowledgements (issue 14, second review): a write of the mute stage that
 * fails half-way, an acknowledgement whose episode ends while a reminder waits in an SMTP outage, and a
 * resolution after the notification log forgot the episode. Real Redis, simulator and SMTP server; "no mail"
 * is asserted once the notifier's jobs have all ended.
 */
const RETRY_FOR = 2 * HOUR;

describe('silences and acknowledgements: exactly once', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let counter = 0;
  const notifiers: Notifier[] = [];
  const queues: Queue[] = [];

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
  });
  after(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    redis.disconnect();
    await smtp.stop();
    await simulator.close();
    await redisServer.close();
  });
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.close()));
    await smtp.restart();
    smtp.messages.splice(0);
  });

  interface NotifierOptions {
    /** Redis user of the notification-log connection (the mute stage's writes go through it). */
    logUser?: { username: string; password: string };
    retryDelay?: number;
  }

  function world(options: { rules?: Rules; now?: () => number } = {}) {
    const prefix = `once${++counter}`;
    const notifier = (extra: NotifierOptions = {}) => {
      const made = createNotifier({
        connect: (role) => {
          const user = role === 'notification-log' ? extra.logUser : undefined;
          const connection = new Redis(redisServer.url, { maxRetriesPerRequest: null, ...(user ?? {}) });
          connection.on('error', () => {});
          return connection;
        },
        prefix,
        mail: {
          enabled: true,
          smtp: smtp.url,
          from: 'bw@example.com',
          to: ['ops@example.com'],
          retryDelay: extra.retryDelay ?? 200,
          retryFor: RETRY_FOR,
        },
        recipientsFor: () => ['ops@example.com'],
        hostname: 'bw-test',
        mute: muteFor(prefix, [], options.now),
      });
      notifiers.push(made);
      return made;
    };
    let current: Notifier | null = null;
    const store = new SnapshotStore(redis, prefix);
    const silences = new SilenceStore(redis, prefix, options.now);
    const deps: PollDeps = {
      source: createSuperOfficeClient(superOfficeConfig(simulator.url)),
      store,
      sink: { enqueue: (batch: NotificationBatch) => current!.enqueue(batch) },
      rules: options.rules ?? rules(),
      instruments: noopInstruments,
      log: createLogger('silent'),
      silences: () => silences.all(),
      windows: [],
      ackKeepMs: endedAckKeepMs(RETRY_FOR),
      ...(options.now ? { now: options.now } : {}),
    };
    const controls = new SilenceControls({
      redis,
      prefix,
      schedules: ['sales'],
      windows: [],
      snapshots: () => store.loadAll(['sales']),
      ...(options.now ? { now: options.now } : {}),
    });
    const queue = new Queue(NOTIFY_QUEUE, { connection: redis, prefix });
    queues.push(queue);
    return {
      prefix,
      store,
      controls,
      queue,
      /** Starts a notifier and makes it the one polls hand their batches to. */
      async use(extra: NotifierOptions = {}) {
        current = notifier(extra);
        await current.start();
        return current;
      },
      poll: () => pollSchedule(salesSchedule, deps),
      /** Until every job of the queue has ended (none waiting, delayed or active). */
      settled: () => waitUntil(async () => (await current!.depth()) === 0, 15_000, 'the notifier to finish its jobs'),
      statuses: async () => (await new NotificationHistory(redis, prefix).recent()).reverse().map((e) => [e.status, e.eventIds.join(',')]),
    };
  }

  it('defect A: the mute stage remembered the alert but could not record the event, the silence ended and the release was mailed: the retried job mails nothing', async () => {
    const w = world();
    // A notification-log connection that may write the schedule's keys (the muted alerts) but not the log:
    // the mute stage's first write succeeds and its second fails, as in a crash or failover between them.
    await redis.call('ACL', 'SETUSER', 'half-writes', 'on', '>pw', 'resetkeys', '%R~*', `~${w.prefix}:{sched:*`, '+@all');
    const crashing = await w.use({ logUser: { username: 'half-writes', password: 'pw' }, retryDelay: HOUR });
    const s = await w.controls.addSilence({ taskId: 6001, for: '1h', comment: 'planned work', author: 'alice' }, 'test');
    simulator.upsertTask({
      id: 6001,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      lastStarted: Date.now() - 1000,
      startCount: 1,
    });
    const fired = await w.poll();
    assert.deepEqual(
      fired.events.map((e) => e.kind),
      ['failed'],
    );
    await waitUntil(async () => (await w.queue.getDelayed()).length === 1, 15_000, 'the failed attempt to wait for its retry');
    assert.equal(
      Object.keys((await new MutedStore(redis, w.prefix).all('sales')).entries).length,
      1,
      'the first write (muted alert) happened',
    );
    assert.equal(await redis.get(sentLogKey(w.prefix, fired.events[0]!.id)), null, 'the second write (notification log) did not');
    await crashing.close();

    // The silence ends while the job waits for its retry: the next poll releases the alert and it is mailed.
    await w.controls.expireSilence(s.id, 'alice', 'test');
    await w.use({ retryDelay: HOUR });
    const released = await w.poll();
    assert.equal(released.events.length, 1);
    assert.ok(released.events[0]!.release, 'a release event');
    await smtp.waitForMessages(1);
    assert.equal((await w.queue.getDelayed()).length, 1, 'the first job still waits for its retry');

    // Now the first job's retry runs.
    const [retry] = await w.queue.getDelayed();
    await retry!.promote();
    await w.settled();
    assert.equal(smtp.messages.length, 1, 'the alert was mailed once (by its release), not again by the retried first event');
    assert.deepEqual((await w.statuses()).at(-1), ['already_sent', fired.events[0]!.id]);
    simulator.removeTask(6001);
  });

  it('defect B: a reminder queued before the acknowledgement, still waiting in an SMTP outage when the alert resolves, is not mailed', async () => {
    let now = Date.now();
    const w = world({ rules: rules({ repeatInterval: HOUR }), now: () => now });
    // Retries an hour apart: a failed job waits until the test promotes it, so it runs exactly when the test says.
    await w.use({ retryDelay: HOUR });
    simulator.upsertTask({
      id: 6002,
      associateId: 101,
      name: 'ExportToErp',
      state: 'Started',
      progressPercent: 40,
      lastStarted: now,
      startCount: 1,
    });
    await w.poll();
    now += 20 * MINUTE;
    const fired = await w.poll();
    assert.deepEqual(
      fired.events.map((e) => e.kind),
      ['stalled'],
    );
    await smtp.waitForMessages(1);
    await w.settled();

    await smtp.stop();
    now += HOUR + MINUTE;
    const reminder = await w.poll();
    assert.deepEqual(
      reminder.events.map((e) => e.repeat),
      [true],
    );
    await waitUntil(async () => (await w.queue.getDelayed()).length === 1, 15_000, 'the reminder to fail an attempt and wait');
    await w.controls.acknowledge({ taskId: 6002, comment: 'ERP upgrade', author: 'bob' }, 'test');

    simulator.upsertTask({
      id: 6002,
      associateId: 101,
      name: 'ExportToErp',
      state: 'Started',
      progressPercent: 60,
      lastStarted: now - 2 * HOUR,
      startCount: 1,
    });
    now += MINUTE;
    const resolved = await w.poll();
    assert.deepEqual(
      resolved.events.map((e) => e.kind),
      ['resolved'],
    );
    assert.equal(await redis.hlen(`${w.prefix}:{sched:sales}:acks`), 0, 'the acknowledgement ended with its episode');
    const kept = await redis.pttl(endedAckKey(w.prefix, 'sales', episodeOf(reminder.events[0]!.id)));
    assert.ok(kept > 0 && kept <= endedAckKeepMs(RETRY_FOR), `kept aside for the notifier, with an expiry (${kept} ms)`);
    await waitUntil(async () => (await w.queue.getDelayed()).length === 2, 15_000, 'the resolution to fail an attempt and wait');

    // The SMTP server is back; the reminder's retry runs (first), then the resolution's.
    await smtp.restart();
    const [first, second] = (await w.queue.getDelayed()).sort((a, b) => a.timestamp - b.timestamp);
    await first!.promote();
    await waitUntil(
      async () =>
        (await w.queue.getDelayed()).length === 1 && (await w.queue.getActiveCount()) === 0 && (await w.queue.getWaitingCount()) === 0,
      15_000,
      'the reminder to be retried',
    );
    await second!.promote();
    await w.settled();
    assert.deepEqual(
      smtp.messages.map((m) => m.parsed.subject?.replace(/:.*/, '')),
      ['[FIRING', '[RESOLVED'],
      'the first mail and the resolution; the reminder was not mailed after the alert resolved',
    );
    assert.ok((await w.statuses()).some(([status, ids]) => status === 'acknowledged' && ids === reminder.events[0]!.id));
    simulator.removeTask(6002);
  });

  it('an episode muted from the start, then acknowledged, resolving after the notification log forgot it: no resolution mail', async () => {
    const w = world();
    await w.use();
    const s = await w.controls.addSilence({ taskId: 6003, for: '1h', comment: 'planned work', author: 'alice' }, 'test');
    simulator.upsertTask({
      id: 6003,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      lastStarted: Date.now() - 1000,
      startCount: 1,
    });
    const fired = await w.poll();
    await w.settled();
    await w.controls.acknowledge({ taskId: 6003, comment: 'known, vendor is on it', author: 'bob' }, 'test');
    await w.poll();
    await w.controls.expireSilence(s.id, 'alice', 'test');
    await w.poll();
    await w.settled();
    assert.equal(smtp.messages.length, 0, 'muted, then acknowledged: never told');

    // retryFor + 7 days later the log's records of the episode have expired (deleted here as Redis would).
    const episode = fired.events[0]!.id;
    await redis.del(sentLogKey(w.prefix, episode), toldKey(w.prefix, episode));
    simulator.upsertTask({ id: 6003, associateId: 101, name: 'MailingSend', state: 'Succeeded', lastStarted: Date.now(), startCount: 2 });
    const resolved = await w.poll();
    assert.deepEqual(
      resolved.events.map((e) => e.kind),
      ['resolved'],
    );
    await w.settled();
    assert.equal(smtp.messages.length, 0, 'nobody was told it fired, so nobody is told it resolved');
    assert.deepEqual((await w.statuses()).at(-1), ['silenced', resolved.events[0]!.id]);
    simulator.removeTask(6003);
  });
});
