import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config/load.ts';
import { emptySnapshot, type NotificationBatch } from '../src/core/model.ts';
import { startDaemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import { forgetRemovedSchedules } from '../src/store/removed-schedules.ts';
import { batchIdFor, SnapshotStore } from '../src/store/snapshot-store.ts';
import { LogLines } from './helpers/daemon-run.ts';
import { event } from './notify-fixtures.ts';
import { RecordingSink } from './helpers/monitor.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

/** A batch of failed events as a poll of `schedule` would have committed it (created now, so not given up). */
function batch(schedule: string, ids: string[]): NotificationBatch {
  return {
    id: batchIdFor(schedule, ids),
    schedule,
    createdAt: Date.now(),
    events: ids.map((id) => event({ kind: 'failed', id, schedule })),
  };
}

describe('Redis state of schedules removed from the config', () => {
  let server: PrivateRedis;
  let redis: Redis;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });

  const keysOf = async (prefix: string) => (await redis.keys(`${prefix}:*`)).sort();

  it('relays what waits in their outbox, then deletes their keys; a schedule being polled and configured ones are kept', async () => {
    const prefix = 'rm1';
    const store = new SnapshotStore(redis, prefix);
    await store.commit(emptySnapshot('kept'), 0, null);
    await store.commit(emptySnapshot('retired'), 0, batch('retired', ['retired:failed:1:1:1']));
    await store.commit(emptySnapshot('gone'), 0, null);
    await store.commit(emptySnapshot('busy'), 0, null);
    await store.pollLock().tryLock('busy', 'someone-polling', 60_000);
    await redis.set('rm1x:{sched:gone}:snapshot', 'another prefix');
    const sink = new RecordingSink();
    const log = new LogLines();

    const report = await forgetRemovedSchedules({ redis, prefix, configured: ['kept'], store, sink, log: createLogger('info', log) });

    assert.deepEqual(
      sink.batches.map((b) => b.id),
      [batchIdFor('retired', ['retired:failed:1:1:1'])],
      'the waiting notification was handed over',
    );
    assert.deepEqual(Object.keys(report.removed).sort(), ['gone', 'retired']);
    assert.match(report.kept.busy ?? '', /lock is held/);
    assert.deepEqual(
      await keysOf(prefix),
      [scheduleKeys(prefix, 'busy').lock, scheduleKeys(prefix, 'busy').snapshot, scheduleKeys(prefix, 'kept').snapshot].sort(),
    );
    assert.equal(await redis.get('rm1x:{sched:gone}:snapshot'), 'another prefix', 'other prefixes are not touched');
    assert.equal(log.matching(/removed the Redis state .* of schedules no longer in the config/).length, 1);
    assert.equal(log.matching(/kept the Redis state of a schedule no longer in the config/).length, 1);

    await store.pollLock().unlock('busy', 'someone-polling');
    const later = await forgetRemovedSchedules({ redis, prefix, configured: ['kept'], store, sink, log: createLogger('silent') });
    assert.deepEqual(later.removed, { busy: 1 }, 'looked at again at the next start');
  });

  it('keeps a removed schedule whose waiting notifications cannot be handed over, and says so', async () => {
    const prefix = 'rm2';
    const store = new SnapshotStore(redis, prefix);
    await store.commit(emptySnapshot('retired'), 0, batch('retired', ['retired:failed:2:1:1']));
    const failing = { enqueue: async () => Promise.reject(new Error('queue unavailable')) };
    const log = new LogLines();
    const report = await forgetRemovedSchedules({ redis, prefix, configured: [], store, sink: failing, log: createLogger('info', log) });
    assert.deepEqual(report.removed, {});
    assert.match(report.kept.retired ?? '', /1 notification\(s\) that could not be handed over \(queue unavailable\)/);
    assert.equal((await store.load('retired')).pendingBatches.length, 1, 'nothing lost');
    assert.equal(log.matching(/kept the Redis state/).length, 1);
  });

  describe('at daemon start', () => {
    let simulator: Simulator;
    let smtp: TestSmtpServer;
    before(async () => {
      simulator = await startSimulator({ scenario: 'empty' });
      smtp = await startSmtpServer();
    });
    after(async () => {
      await smtp.stop();
      await simulator.close();
    });

    it('mails what a removed schedule still had to send, then removes its keys', async () => {
      const prefix = 'rm3';
      const store = new SnapshotStore(redis, prefix);
      await store.commit(emptySnapshot('retired'), 0, batch('retired', ['retired:failed:4711:1:1']));
      const log = new LogLines();
      const config = parseConfig(
        `superoffice: { url: "${simulator.url}", username: demo, password: demo }
redis: { url: "${server.url}", prefix: ${prefix} }
schedules: [{ name: sales, associates: [101], every: 1s }]
mail: { smtp: "smtp://127.0.0.1:${smtp.port}", from: bw@example.com, to: [ops@example.com] }
http: { host: 127.0.0.1, port: 0 }
`,
        {},
      );
      const daemon = await startDaemon(config, createLogger('info', log));
      try {
        await waitUntil(() => log.matching(/removed the Redis state/).length > 0, 10_000, 'the clean-up at start');
        assert.deepEqual(await redis.keys(`${prefix}:{sched:retired}:*`), []);
        const [mail] = await smtp.waitForMessages(1, 10_000);
        assert.equal(mail!.parsed.headers.get('x-batchwatch-events'), 'failed=4711');
      } finally {
        await daemon.close();
      }
    });
  });
});
