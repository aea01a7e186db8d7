import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { emptySnapshot, type Snapshot } from '../src/core/model.ts';
import { createProbeRedis } from '../src/daemon/redis-connections.ts';
import { NotificationHistory } from '../src/notify/history.ts';
import type { RedisClient } from '../src/redis/connections.ts';
import { SilenceControls } from '../src/silence/controls.ts';
import { StatusCollector } from '../src/status/collector.ts';
import { renderFragment } from '../src/status/render.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { task, T0, MINUTE } from './helpers/tasks.ts';

const quiet = { warn() {}, info() {}, debug() {} };

/** The status collector against a real Redis: what it reads, that tabs share a reading, and a Redis outage. */
describe('status collector', () => {
  let redis: PrivateRedis;
  let client: RedisClient;
  let clock = T0;
  let historyReads = 0;
  let collector: StatusCollector;
  const snapshot: Snapshot = {
    ...emptySnapshot('sales'),
    version: 2,
    lastPollAt: T0 - 1000,
    lastSuccessAt: T0 - 1000,
    tasks: {
      '7': {
        task: task({ id: 7, name: 'MailingSend', associateId: 101, state: 'Failed' }),
        firstSeenAt: T0 - MINUTE,
        stateSince: T0 - MINUTE,
        progressSince: T0 - MINUTE,
      },
    },
    alerts: {
      'failed:7': {
        kind: 'failed',
        subject: '7',
        eventId: 'sales:failed:7',
        firedAt: T0 - MINUTE,
        lastNotifiedAt: T0 - MINUTE,
        repeats: 0,
      },
    },
  };

  before(async () => {
    redis = await startRedis();
    client = createProbeRedis(redis.url, quiet);
    // The fail-fast connection the daemon gives the page: usable once connected.
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const controls = new SilenceControls({
      redis: client,
      prefix: 'st',
      schedules: ['sales'],
      windows: [],
      snapshots: async () => [snapshot],
      now: () => clock,
    });
    const history = new NotificationHistory(client, 'st');
    await history.append({
      at: T0 - 30_000,
      batchId: 'b1',
      schedule: 'sales',
      status: 'sent',
      subject: '[FIRING:1] failed: task 7 "MailingSend"',
      eventIds: ['e1'],
    });
    await controls.addSilence({ taskId: 7, for: '1h', comment: 'relay migration' }, 'alice');
    collector = new StatusCollector({
      schedules: [{ name: 'sales', timing: { every: 60_000 } }],
      snapshots: { get: (name) => (name === 'sales' ? snapshot : undefined), current: () => true },
      controls,
      history: {
        recent: (limit) => {
          historyReads++;
          return history.recent(limit);
        },
      },
      cacheMs: 2000,
      timeoutMs: 500,
      now: () => clock,
    });
  });
  after(async () => {
    client?.disconnect();
    await redis?.close();
  });

  it('shows the alert with the silence that mutes it, the silence, and the notification', async () => {
    const view = await collector.view();
    assert.deepEqual(view.problems, []);
    const alert = view.alerts.items[0]!;
    assert.equal(alert.task?.name, 'MailingSend');
    assert.deepEqual(
      alert.silencedBy?.map((m) => [m.kind, m.author, m.comment]),
      [['silence', 'alice', 'relay migration']],
    );
    assert.deepEqual(
      view.silences?.items.map((s) => s.author),
      ['alice'],
    );
    assert.deepEqual(
      view.notifications?.items.map((n) => [n.status, n.subject]),
      [['sent', '[FIRING:1] failed: task 7 "MailingSend"']],
    );
  });

  it('many tabs at once share one reading, reused for cacheMs', async () => {
    clock += 10_000;
    const before = historyReads;
    const views = await Promise.all(Array.from({ length: 20 }, () => collector.view()));
    assert.equal(historyReads - before, 1, 'one reading for twenty requests');
    assert.ok(views.every((v) => v === views[0]));
    clock += 1999;
    await collector.view();
    assert.equal(historyReads - before, 1, 'still within cacheMs');
    clock += 1;
    await collector.view();
    assert.equal(historyReads - before, 2, 'read again after cacheMs');
  });

  it('annotates only the shown alerts, and picks the rows again only when a snapshot changes', async () => {
    const controls = new SilenceControls({
      redis: client,
      prefix: 'st',
      schedules: ['big'],
      windows: [],
      snapshots: async () => [big],
      now: () => clock,
    });
    const annotated: number[] = [];
    let big: Snapshot = { ...emptySnapshot('big'), version: 1, lastPollAt: T0, lastSuccessAt: T0 };
    for (let id = 1; id <= 500; id++) {
      big.tasks[String(id)] = {
        task: task({ id, name: `Job ${id}`, state: 'Failed' }),
        firstSeenAt: T0,
        stateSince: T0,
        progressSince: T0,
      };
      big.alerts[`failed:${id}`] = {
        kind: 'failed',
        subject: String(id),
        eventId: `big:failed:${id}`,
        firedAt: T0 - id,
        lastNotifiedAt: T0,
        repeats: 0,
      };
    }
    // Read back for the shown rows only (HMGET of their entries): an acknowledgement of a shown and of a hidden alert.
    await controls.acknowledge({ taskId: 3, comment: 'on it' }, 'bob');
    await controls.acknowledge({ taskId: 400, comment: 'later' }, 'bob');
    const bigCollector = new StatusCollector({
      schedules: [{ name: 'big', timing: { every: 60_000 } }],
      snapshots: { get: () => big, current: () => true },
      controls: {
        annotate: (alerts, now) => {
          annotated.push(alerts.length);
          return controls.annotate(alerts, now);
        },
        silences: (now) => controls.silences(now),
        windows: (now) => controls.windows(now),
      },
      history: { recent: async () => [] },
      limits: { alerts: 5, running: 5, notifications: 5, silences: 5 },
      cacheMs: 0,
      now: () => clock,
    });
    const first = await bigCollector.view();
    assert.deepEqual(
      first.alerts.items.map((a) => a.subject),
      ['1', '2', '3', '4', '5'],
    );
    assert.equal(first.alerts.more, 495);
    assert.equal(first.schedules[0]!.alerts, 500);
    assert.deepEqual(annotated, [5], 'only the five shown alerts are annotated');
    assert.deepEqual(
      first.alerts.items.map((a) => a.acknowledged?.comment ?? null),
      [null, null, 'on it', null, null],
    );
    clock += 1;
    await bigCollector.view();
    assert.equal(bigCollector.selections, 1, 'same snapshot, same version: the rows picked before are reused');
    // A new poll: a newer alert goes to the top.
    const alerts = {
      ...big.alerts,
      'failed:900': { ...big.alerts['failed:1']!, subject: '900', eventId: 'big:failed:900', firedAt: T0 + 5 },
    };
    big = { ...big, version: 2, alerts };
    const third = await bigCollector.view();
    assert.equal(bigCollector.selections, 2);
    assert.equal(third.alerts.items[0]!.subject, '900');
    assert.equal(third.alerts.more, 496);
  });

  it('with Redis down the page still shows the snapshots and names what could not be read', async () => {
    await redis.stop();
    try {
      clock += 10_000;
      const view = await collector.view();
      assert.equal(view.alerts.items.length, 1, 'alerts come from the in-process snapshots');
      assert.equal(view.alerts.items[0]!.silencedBy, null, 'unknown, not "not silenced"');
      assert.equal(view.notifications, null);
      assert.equal(view.silences, null);
      assert.equal(view.problems.length, 3, view.problems.join('\n'));
      for (const part of ['silences and acknowledgements of the alerts', 'silences', 'the notification log']) {
        assert.ok(
          view.problems.some((p) => p.startsWith(`${part} could not be read: `)),
          part,
        );
      }
      const html = renderFragment(view).text;
      assert.match(html, /role="alert"/);
      assert.match(html, /The notification log could not be read/);
      assert.match(html, /unknown \(silences could not be read\)/);
    } finally {
      await redis.start();
    }
  });
});
