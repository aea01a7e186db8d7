import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { MaintenanceWindow } from '../src/core/maintenance-windows.ts';
import type { AlertEvent, EventKind, NotificationBatch } from '../src/core/model.ts';
import { muteFor } from '../src/daemon/configured-notifier.ts';
import type { MailConfig } from '../src/config/types.ts';
import { noopInstruments, type Instruments } from '../src/metrics/instruments.ts';
import { NotificationHistory, type HistoryEntry } from '../src/notify/history.ts';
import { createNotifier, jobIdFor, type Notifier } from '../src/notify/notifier.ts';
import { SentLog, sentLogKey } from '../src/notify/sent-log.ts';
import { AckStore } from '../src/silence/ack-store.ts';
import { MutedStore } from '../src/silence/muted-store.ts';
import { SilenceStore } from '../src/silence/silence-store.ts';
import { NOTIFY_QUEUE } from '../src/store/keys.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';
import { batch, event, task } from './notify-fixtures.ts';

const HOUR = 3_600_000;

/** The notifier with the real mute stage (as the daemon builds it), on real Redis and a real SMTP server. */
describe('the mute stage in the notifier (silences, acknowledgements, maintenance windows)', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let smtp: TestSmtpServer;
  let counter = 0;
  const open: Notifier[] = [];
  const queues: Queue[] = [];

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  after(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    client.disconnect();
    await redis.close();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((n) => n.close()));
    await smtp?.stop();
  });

  interface Setup {
    prefix: string;
    notifier: Notifier;
    silenced: { schedule: string; kind: EventKind }[];
    sentCount: () => number;
  }

  function setup(options: { windows?: MaintenanceWindow[]; now?: () => number; mail?: Partial<MailConfig> } = {}): Setup {
    const prefix = `mute${++counter}`;
    const silenced: { schedule: string; kind: EventKind }[] = [];
    let sent = 0;
    const instruments: Instruments = {
      ...noopInstruments,
      notification: (outcome, count = 1) => {
        if (outcome === 'sent') sent += count;
      },
      notificationSilenced: (schedule, kind) => void silenced.push({ schedule, kind }),
    };
    const notifier = createNotifier({
      connect: () => {
        const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
        connection.on('error', () => {});
        return connection;
      },
      prefix,
      mail: {
        enabled: true,
        smtp: smtp.url,
        from: 'bw@example.com',
        to: ['ops@example.com'],
        retryDelay: 200,
        retryFor: 60_000,
        ...options.mail,
      },
      recipientsFor: () => ['ops@example.com'],
      hostname: 'bw-test',
      instruments,
      mute: muteFor(prefix, options.windows ?? [], options.now),
    });
    open.push(notifier);
    return { prefix, notifier, silenced, sentCount: () => sent };
  }

  async function finalState(prefix: string, batchId: string): Promise<string> {
    const queue = new Queue(NOTIFY_QUEUE, { connection: client, prefix });
    queues.push(queue);
    let state = '';
    await waitUntil(
      async () => {
        state = await queue.getJobState(jobIdFor(batchId));
        return state === 'completed' || state === 'failed';
      },
      15_000,
      `job ${batchId} to finish`,
    );
    return state;
  }

  async function history(prefix: string, batchId: string): Promise<HistoryEntry[]> {
    return (await new NotificationHistory(client, prefix).recent()).filter((e) => e.batchId === batchId).reverse();
  }

  const fresh = (events: AlertEvent[], id: string): NotificationBatch => ({ ...batch(events), id, createdAt: Date.now() });
  const failed = event({ kind: 'failed', id: 'sales:failed:4711:1:1000' });
  const stalled = event({
    kind: 'stalled',
    id: 'sales:stalled:4712:2000',
    task: task({ id: 4712, name: 'ExportToErp', state: 'Started' }),
  });

  async function silence(prefix: string, matchers: Record<string, unknown>, forMs = HOUR) {
    const now = Date.now();
    return new SilenceStore(client, prefix).add({ matchers, startsAt: now, endsAt: now + forMs, comment: 'planned work', author: 'alice' });
  }

  it('a silenced event is not mailed but recorded: history, notification log, counter, muted alerts; the rest is mailed', async () => {
    smtp = await startSmtpServer();
    const s = setup();
    const made = await silence(s.prefix, { task: 'Mailing*' });
    await s.notifier.start();
    await s.notifier.enqueue(fresh([failed, stalled], 'sales.mixed'));
    assert.equal(await finalState(s.prefix, 'sales.mixed'), 'completed');
    assert.equal(smtp.messages.length, 1);
    assert.equal(smtp.messages[0]!.parsed.headers.get('x-batchwatch-events'), 'stalled=4712', 'only the unsilenced event');
    const entries = await history(s.prefix, 'sales.mixed');
    assert.deepEqual(
      entries.map((e) => [e.status, e.eventIds]),
      [
        ['silenced', [failed.id]],
        ['sent', [stalled.id]],
      ],
    );
    assert.match(entries[0]!.detail ?? '', new RegExp(`silence ${made.id} by alice until .*: planned work`));
    const logged = JSON.parse((await client.get(sentLogKey(s.prefix, failed.id)))!) as { status: string; by: string[] };
    assert.deepEqual([logged.status, logged.by], ['silenced', [made.id]]);
    assert.deepEqual(s.silenced, [{ schedule: 'sales', kind: 'failed' }]);
    const muted = (await new MutedStore(client, s.prefix).all('sales')).entries;
    assert.deepEqual(Object.keys(muted), ['failed:4711']);
    assert.deepEqual([muted['failed:4711']!.episode, muted['failed:4711']!.silences], [failed.id, [made.id]]);

    // Settled: the same event in a later batch (a retried or re-handed job) is neither mailed nor counted again.
    await s.notifier.enqueue(fresh([failed], 'sales.again'));
    assert.equal(await finalState(s.prefix, 'sales.again'), 'completed');
    assert.deepEqual(
      (await history(s.prefix, 'sales.again')).map((e) => e.status),
      ['already_sent'],
    );
    assert.equal(smtp.messages.length, 1);
    assert.equal(s.silenced.length, 1);
  });

  it('a silence created while the mail waits in the queue during an SMTP outage still mutes it', async () => {
    smtp = await startSmtpServer();
    await smtp.stop();
    const s = setup();
    await s.notifier.start();
    await s.notifier.enqueue(fresh([failed], 'sales.outage'));
    await waitUntil(async () => (await history(s.prefix, 'sales.outage')).some((e) => e.status === 'retrying'), 10_000, 'a failed attempt');
    await silence(s.prefix, { taskId: 4711 });
    await smtp.restart();
    assert.equal(await finalState(s.prefix, 'sales.outage'), 'completed');
    assert.equal(smtp.messages.length, 0);
    assert.equal((await history(s.prefix, 'sales.outage')).at(-1)?.status, 'silenced');
    assert.equal(s.sentCount(), 0);
  });

  it('an acknowledged episode: its reminders are dropped as acknowledged (not counted as silenced); a new episode is mailed', async () => {
    smtp = await startSmtpServer();
    const s = setup();
    await new AckStore(client, s.prefix).put('sales', stalled.id, {
      author: 'bob',
      comment: 'on it',
      at: Date.now(),
      kind: 'stalled',
      subject: '4712',
    });
    await s.notifier.start();
    const reminder = { ...stalled, id: `${stalled.id}:r1`, repeat: true };
    await s.notifier.enqueue(fresh([reminder], 'sales.reminder'));
    assert.equal(await finalState(s.prefix, 'sales.reminder'), 'completed');
    const entries = await history(s.prefix, 'sales.reminder');
    assert.deepEqual(
      entries.map((e) => [e.status, e.detail]),
      [['acknowledged', 'acknowledged by bob: on it']],
    );
    assert.equal(s.silenced.length, 0);
    const newEpisode = { ...stalled, id: 'sales:stalled:4712:9000' };
    await s.notifier.enqueue(fresh([newEpisode], 'sales.new'));
    await smtp.waitForMessages(1);
    assert.equal(await finalState(s.prefix, 'sales.new'), 'completed');
    assert.equal(smtp.messages.length, 1);
  });

  it('a resolution: dropped when its alert was muted and never told, mailed when it was told, silenced while a silence matches', async () => {
    smtp = await startSmtpServer();
    const s = setup();
    const resolvedOf = (e: AlertEvent): AlertEvent => ({
      ...e,
      id: `${e.id}:resolved`,
      kind: 'resolved',
      alertKind: e.kind as AlertEvent['alertKind'],
      reason: 'task succeeded',
    });
    const silenceOf = await silence(s.prefix, { taskId: 4711 });
    await s.notifier.start();
    await s.notifier.enqueue(fresh([failed], 'sales.fired'));
    assert.equal(await finalState(s.prefix, 'sales.fired'), 'completed');
    await new SilenceStore(client, s.prefix).expire(silenceOf.id, 'alice');
    await s.notifier.enqueue(fresh([resolvedOf(failed)], 'sales.resolved-untold'));
    assert.equal(await finalState(s.prefix, 'sales.resolved-untold'), 'completed');
    const untold = await history(s.prefix, 'sales.resolved-untold');
    assert.deepEqual(
      untold.map((e) => [e.status, e.detail]),
      [['silenced', 'its alert was muted and never mailed']],
    );

    await new SentLog(client, s.prefix, HOUR).record([stalled], { sentAt: Date.now(), response: '250', messageId: '<m@x>' });
    await silence(s.prefix, { kind: 'stalled' });
    await s.notifier.enqueue(fresh([resolvedOf(stalled)], 'sales.resolved-silenced'));
    assert.equal(await finalState(s.prefix, 'sales.resolved-silenced'), 'completed');
    assert.equal((await history(s.prefix, 'sales.resolved-silenced'))[0]?.status, 'silenced');
    assert.deepEqual(
      s.silenced.map((c) => c.kind),
      ['failed', 'resolved', 'resolved'],
    );

    const told = event({ kind: 'stuck', id: 'sales:stuck:4713:3000', task: task({ id: 4713, name: 'ImportLeads', state: 'New' }) });
    await new SentLog(client, s.prefix, HOUR).record([told], { sentAt: Date.now(), response: '250', messageId: '<m@x>' });
    await s.notifier.enqueue(fresh([resolvedOf(told)], 'sales.resolved-told'));
    await smtp.waitForMessages(1);
    assert.equal(smtp.messages[0]!.parsed.headers.get('x-batchwatch-events'), 'resolved=4713');
    assert.equal(smtp.messages.length, 1);
  });

  it('a release whose episode was mailed after it was muted is not mailed again', async () => {
    smtp = await startSmtpServer();
    const s = setup();
    await new SentLog(client, s.prefix, HOUR).record([stalled], { sentAt: 5000, response: '250', messageId: '<m@x>' });
    await s.notifier.start();
    const release = (mutedAt: number): AlertEvent => ({ ...stalled, id: `${stalled.id}:u${mutedAt}`, release: { mutedAt } });
    await s.notifier.enqueue(fresh([release(4000)], 'sales.release-told'));
    assert.equal(await finalState(s.prefix, 'sales.release-told'), 'completed');
    assert.deepEqual(
      (await history(s.prefix, 'sales.release-told')).map((e) => e.status),
      ['already_sent'],
    );
    await s.notifier.enqueue(fresh([release(6000)], 'sales.release-untold'));
    const [mail] = await smtp.waitForMessages(1);
    assert.match(mail!.parsed.subject ?? '', /stalled \(silence ended\)/);
  });

  describe('maintenance windows (clock injected)', () => {
    // Saturday 2025-01-11 22:00 in Oslo = 21:00 UTC.
    const window: MaintenanceWindow = {
      name: 'saturday-reindex',
      cron: '0 22 * * 6',
      tz: 'Europe/Oslo',
      duration: 4 * HOUR,
      match: { task: 'Export*', kind: 'stalled' },
    };
    const saturdayNight = Date.UTC(2025, 0, 11, 23, 0, 0);

    it('in force: matching events are silenced naming the window; others are mailed', async () => {
      smtp = await startSmtpServer();
      const s = setup({ windows: [window], now: () => saturdayNight });
      await s.notifier.start();
      await s.notifier.enqueue(fresh([failed, stalled], 'sales.window'));
      assert.equal(await finalState(s.prefix, 'sales.window'), 'completed');
      assert.equal(smtp.messages[0]?.parsed.headers.get('x-batchwatch-events'), 'failed=4711');
      const entries = await history(s.prefix, 'sales.window');
      assert.equal(entries[0]?.status, 'silenced');
      assert.match(entries[0]?.detail ?? '', /maintenance window saturday-reindex until 2025-01-12T01:00:00.000Z/);
      const muted = (await new MutedStore(client, s.prefix).all('sales')).entries['stalled:4712'];
      assert.deepEqual([muted?.windows, muted?.at], [['saturday-reindex'], saturdayNight]);
    });

    it('not in force: everything is mailed', async () => {
      smtp = await startSmtpServer();
      const s = setup({ windows: [window], now: () => saturdayNight + 3 * HOUR });
      await s.notifier.start();
      await s.notifier.enqueue(fresh([stalled], 'sales.nowindow'));
      await smtp.waitForMessages(1);
      assert.equal(await finalState(s.prefix, 'sales.nowindow'), 'completed');
      assert.deepEqual(
        (await history(s.prefix, 'sales.nowindow')).map((e) => e.status),
        ['sent'],
      );
      assert.equal(s.silenced.length, 0);
    });
  });
});
