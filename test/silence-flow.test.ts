import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { episodeOf } from '../src/core/event-id.ts';
import type { AlertMatchers } from '../src/core/matchers.ts';
import type { Rules } from '../src/core/model.ts';
import { muteFor } from '../src/daemon/configured-notifier.ts';
import { createLogger } from '../src/log.ts';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule, type PollDeps } from '../src/monitor/poll.ts';
import { NotificationHistory } from '../src/notify/history.ts';
import { createNotifier, type Notifier } from '../src/notify/notifier.ts';
import { SilenceControls } from '../src/silence/controls.ts';
import { MutedStore } from '../src/silence/muted-store.ts';
import { SilenceStore } from '../src/silence/silence-store.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { salesSchedule, superOfficeConfig } from './helpers/monitor.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { HOUR, MINUTE, rules } from './helpers/tasks.ts';
import { waitUntil } from './helpers/wait.ts';

/**
 * Poll, notifier and silences together, on real Redis, the simulator and a real SMTP server. Polls are run by
 * hand; after each one the test waits until the notifier's queue is empty, so "no mail" is asserted only once
 * every notification reached its end.
 */
describe('silences and acknowledgements from poll to mail', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let counter = 0;
  const notifiers: Notifier[] = [];

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
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.close()));
    smtp.messages.splice(0);
  });

  function world(options: { rules?: Rules; now?: () => number } = {}) {
    const prefix = `flow${++counter}`;
    const notifier = createNotifier({
      connect: () => {
        const connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
        connection.on('error', () => {});
        return connection;
      },
      prefix,
      mail: { enabled: true, smtp: smtp.url, from: 'bw@example.com', to: ['ops@example.com'], retryDelay: 200, retryFor: 60_000 },
      recipientsFor: () => ['ops@example.com'],
      hostname: 'bw-test',
      // The notifier reads the same clock as the polls, so a silence starts and ends for both at once.
      mute: muteFor(prefix, [], options.now),
    });
    notifiers.push(notifier);
    const store = new SnapshotStore(redis, prefix);
    const silences = new SilenceStore(redis, prefix, options.now);
    const deps: PollDeps = {
      source: createSuperOfficeClient(superOfficeConfig(simulator.url)),
      store,
      sink: notifier,
      rules: options.rules ?? rules(),
      instruments: noopInstruments,
      log: createLogger('silent'),
      silences: () => silences.all(),
      windows: [],
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
    /** One poll, then every notification it queued reaches its end. */
    const poll = async () => {
      const report = await pollSchedule(salesSchedule, deps);
      await waitUntil(async () => (await notifier.depth()) === 0, 15_000, 'the notifier to finish its jobs');
      return report;
    };
    const silence = (matchers: AlertMatchers) =>
      controls.addSilence({ ...matchers, for: '1h', comment: 'planned work', author: 'alice' }, 'test');
    const statuses = async () => (await new NotificationHistory(redis, prefix).recent()).reverse().map((e) => e.status);
    return { prefix, notifier, store, deps, controls, poll, silence, statuses };
  }

  const failTask = (id: number, startCount = 1) =>
    simulator.upsertTask({
      id,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      lastStarted: Date.now() - 1000 * startCount,
      startCount,
    });

  it('a silence ends while the alert still fires: mailed exactly once then', async () => {
    const w = world();
    await w.notifier.start();
    const s = await w.silence({ taskId: 5001 });
    failTask(5001);
    await w.poll();
    await w.poll();
    assert.equal(smtp.messages.length, 0, 'muted while the silence lasts');
    assert.deepEqual(await w.statuses(), ['silenced']);
    assert.equal(Object.keys((await new MutedStore(redis, w.prefix).all('sales')).entries).length, 1, 'remembered for release');

    await w.controls.expireSilence(s.id, 'alice', 'test');
    const released = await w.poll();
    assert.equal(released.events.length, 1);
    assert.ok(released.events[0]!.release, 'a release event');
    const [mail] = await smtp.waitForMessages(1);
    assert.match(mail!.parsed.subject ?? '', /^\[FIRING:1\] failed \(silence ended\): task 5001/);
    assert.match(mail!.parsed.text ?? '', /Silenced: +from /);
    for (let i = 0; i < 3; i++) await w.poll();
    assert.equal(smtp.messages.length, 1, 'once');
    assert.deepEqual(
      await new MutedStore(redis, w.prefix).all('sales').then((m) => Object.keys(m.raw)),
      [],
      'the muted entry went with the release',
    );

    // The alert was told, so its resolution is mailed.
    simulator.upsertTask({ id: 5001, associateId: 101, name: 'MailingSend', state: 'Succeeded', lastStarted: Date.now(), startCount: 2 });
    await w.poll();
    const [, resolved] = await smtp.waitForMessages(2);
    assert.match(resolved!.parsed.subject ?? '', /^\[RESOLVED:1\] failed: task 5001/);
    simulator.removeTask(5001);
  });

  it('a quiet poll (nothing muted) does not read the silences; a poll with a muted alert does, once', async () => {
    const w = world();
    await w.notifier.start();
    let reads = 0;
    const read = w.deps.silences!;
    w.deps.silences = () => {
      reads += 1;
      return read();
    };
    failTask(5006);
    await w.poll();
    await w.poll();
    assert.equal(reads, 0, 'nothing muted: silences not read');
    await smtp.waitForMessages(1);
    const s = await w.silence({ taskId: 5007 });
    failTask(5007);
    await w.poll();
    assert.equal(reads, 0, 'muted at send time, after this poll');
    await w.poll();
    assert.equal(reads, 1, 'the next poll reads them to see whether the silence ended');
    await w.controls.expireSilence(s.id, 'alice', 'test');
    await w.poll();
    await smtp.waitForMessages(2);
    await w.poll();
    assert.equal(reads, 2, 'released: quiet again');
    simulator.removeTask(5006);
    simulator.removeTask(5007);
  });

  it('an alert that fires and resolves while silenced sends nothing, not even after the silence', async () => {
    const w = world();
    await w.notifier.start();
    const s = await w.silence({ task: 'Mailing*' });
    failTask(5002);
    await w.poll();
    simulator.upsertTask({ id: 5002, associateId: 101, name: 'MailingSend', state: 'Succeeded', lastStarted: Date.now(), startCount: 2 });
    const resolved = await w.poll();
    assert.deepEqual(
      resolved.events.map((e) => e.kind),
      ['resolved'],
    );
    await w.controls.expireSilence(s.id, 'alice', 'test');
    await w.poll();
    await w.poll();
    assert.equal(smtp.messages.length, 0);
    assert.deepEqual(await w.statuses(), ['silenced', 'silenced']);
    assert.deepEqual(Object.keys((await new MutedStore(redis, w.prefix).all('sales')).raw), [], 'nothing left to release');
    simulator.removeTask(5002);
  });

  it('a silence made after the alert was mailed: no resolution mail while it lasts', async () => {
    const w = world();
    await w.notifier.start();
    failTask(5003);
    await w.poll();
    await smtp.waitForMessages(1);
    await w.silence({ taskId: 5003 });
    simulator.upsertTask({ id: 5003, associateId: 101, name: 'MailingSend', state: 'Succeeded', lastStarted: Date.now(), startCount: 2 });
    await w.poll();
    assert.equal(smtp.messages.length, 1);
    assert.deepEqual(await w.statuses(), ['sent', 'silenced']);
    simulator.removeTask(5003);
  });

  it('an acknowledgement stops reminders; the resolved mail names who acknowledged it and why', async () => {
    let now = Date.now();
    const w = world({ rules: rules({ repeatInterval: HOUR }), now: () => now });
    await w.notifier.start();
    simulator.upsertTask({
      id: 5004,
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

    const acked = await w.controls.acknowledge(
      { taskId: 5004, comment: 'ERP is down for an upgrade, export restarts at 14:00', author: 'bob' },
      'test',
    );
    assert.deepEqual(
      acked.map((a) => [a.kind, a.episode]),
      [['stalled', fired.events[0]!.id]],
    );
    for (let i = 0; i < 3; i++) {
      now += 2 * HOUR;
      assert.deepEqual((await w.poll()).events, [], 'no reminder while acknowledged');
    }
    assert.equal(smtp.messages.length, 1);

    simulator.upsertTask({
      id: 5004,
      associateId: 101,
      name: 'ExportToErp',
      state: 'Started',
      progressPercent: 60,
      lastStarted: now - 7 * HOUR,
      startCount: 1,
    });
    now += MINUTE;
    await w.poll();
    const [, resolved] = await smtp.waitForMessages(2);
    assert.match(resolved!.parsed.subject ?? '', /^\[RESOLVED:1\] stalled: task 5004/);
    assert.match(resolved!.parsed.text ?? '', /Acknowledged: bob at .*: "ERP is down for an upgrade, export restarts at 14:00"/);
    assert.match(String(resolved!.parsed.html), /Acknowledged by bob\./);
    assert.equal((await w.controls.alerts()).length, 0, 'no active alert left');
    assert.equal(await redis.hlen(`${w.prefix}:{sched:sales}:acks`), 0, 'the acknowledgement ended with its episode');

    // A new episode of the same task is mailed again (and has no acknowledgement).
    now += 20 * MINUTE;
    const again = await w.poll();
    assert.deepEqual(
      again.events.map((e) => e.kind),
      ['stalled'],
    );
    assert.notEqual(episodeOf(again.events[0]!.id), episodeOf(fired.events[0]!.id));
    await smtp.waitForMessages(3);
    simulator.removeTask(5004);
  });

  it('reminders muted by a silence are released once it ends, and reminders count from the release', async () => {
    let now = Date.now();
    const w = world({ rules: rules({ repeatInterval: HOUR }), now: () => now });
    await w.notifier.start();
    simulator.upsertTask({
      id: 5005,
      associateId: 101,
      name: 'ExportToErp',
      state: 'Started',
      progressPercent: 40,
      lastStarted: now,
      startCount: 1,
    });
    await w.poll();
    now += 20 * MINUTE;
    await w.poll();
    await smtp.waitForMessages(1);
    await w.controls.addSilence({ taskId: 5005, for: '2h30m', comment: 'vendor on it' }, 'carol');
    now += HOUR + MINUTE;
    const reminder = await w.poll();
    assert.deepEqual(
      reminder.events.map((e) => e.repeat),
      [true],
    );
    assert.equal(smtp.messages.length, 1, 'the reminder fell into the silence');
    now += HOUR;
    assert.deepEqual(
      (await w.poll()).events.map((e) => e.repeat),
      [true],
      'the next reminder too (still muted)',
    );
    now += 30 * MINUTE;
    const released = await w.poll();
    assert.deepEqual(
      released.events.map((e) => [e.kind, e.repeat, e.release !== undefined]),
      [['stalled', false, true]],
    );
    const [, mail] = await smtp.waitForMessages(2);
    assert.match(mail!.parsed.subject ?? '', /stalled \(silence ended\)/);
    now += HOUR - MINUTE;
    assert.deepEqual((await w.poll()).events, [], 'reminders count from the release');
    now += 2 * MINUTE;
    assert.deepEqual(
      (await w.poll()).events.map((e) => e.repeat),
      [true],
    );
    await smtp.waitForMessages(3);
    assert.equal(smtp.messages.length, 3);
    simulator.removeTask(5005);
  });
});
