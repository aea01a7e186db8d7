import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { ScheduleConfig } from '../src/config/types.ts';
import { createLogger } from '../src/log.ts';
import { pollSchedule } from '../src/monitor/poll.ts';
import { PollScheduler } from '../src/schedule/poll-scheduler.ts';
import { POLL_QUEUE } from '../src/store/keys.ts';
import { PollLock } from '../src/store/poll-lock.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollDeps, RecordingSink } from './helpers/monitor.ts';
import { waitUntil } from './helpers/wait.ts';

/** The scheduler's JSON log lines, kept for assertions. */
class LogLines {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

const fast: ScheduleConfig = { name: 'fast', associates: [101, 102], timing: { every: 200 } };
/** One tick a minute: after its first tick a schedule holds exactly one delayed job for the rest of a test. */
const slow: ScheduleConfig = { name: 'slow', associates: [101], timing: { every: 60_000 } };

describe('BullMQ poll schedules', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  const log = createLogger('silent');
  /** Every scheduler a test made, closed after it even when it failed half-way (or the process would not exit). */
  const open: PollScheduler[] = [];
  const newScheduler = (options: ConstructorParameters<typeof PollScheduler>[0]): PollScheduler => {
    const made = new PollScheduler(options);
    open.push(made);
    return made;
  };

  function replica(prefix: string, schedules: ScheduleConfig[], sink: RecordingSink, schedulerLog = log) {
    const store = new SnapshotStore(redis, prefix);
    const deps = pollDeps(simulator.url, store, sink);
    return newScheduler({
      redisUrl: redisServer.url,
      prefix,
      schedules,
      store,
      runPoll: (schedule) => pollSchedule(schedule, deps),
      lockTtlMs: 30_000,
      log: schedulerLog,
    });
  }

  /** The scheduler's first job, moved to active by hand as a moveToActive whose reply was lost leaves it. */
  async function strandFirstJob(prefix: string, lockMs: number, schedule = 'slow'): Promise<string> {
    const key = (name: string) => `${prefix}:${POLL_QUEUE}:${name}`;
    const jobId = [...(await redis.lrange(key('wait'), 0, -1)), ...(await redis.zrange(key('delayed'), '0', '-1'))].find((id) =>
      id.startsWith(`repeat:poll-${schedule}:`),
    );
    assert.ok(jobId, 'the scheduler made its first job');
    await redis
      .multi()
      .lrem(key('wait'), 0, jobId)
      .zrem(key('delayed'), jobId)
      .lpush(key('active'), jobId)
      .set(`${key(jobId)}:lock`, 'a worker that lost the reply', 'PX', lockMs)
      .exec();
    return jobId;
  }

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    simulator = await startSimulator({ scenario: 'empty' });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  after(async () => {
    redis.disconnect();
    await simulator.close();
    await redisServer.close();
  });

  it('two replicas on one Redis register one scheduler and detect a failure once', async () => {
    simulator.upsertTask({ id: 501, associateId: 101, name: 'Nightly', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
    const sinks = [new RecordingSink(), new RecordingSink()];
    const replicas = sinks.map((sink) => replica('two', [fast], sink));
    for (const r of replicas) {
      await r.register();
      r.start();
    }
    await waitUntil(() => sinks.some((s) => s.batches.length > 0), 5000, 'the failure to be detected');
    // Five more polls committed and handed over (the outbox empty): nobody may report it again.
    const store = new SnapshotStore(redis, 'two');
    const seen = (await store.load('fast')).snapshot.version;
    await waitUntil(
      async () => {
        const state = await store.load('fast');
        return state.snapshot.version >= seen + 5 && state.pendingBatches.length === 0;
      },
      10_000,
      'five more polls',
    );
    await Promise.all(replicas.map((r) => r.close()));
    assert.equal(sinks.flatMap((s) => s.eventIds('failed')).length, 1);
    const queue = new Queue(POLL_QUEUE, { connection: { url: redisServer.url }, prefix: 'two' });
    assert.deepEqual(
      (await queue.getJobSchedulers()).map((s) => s.id ?? s.key),
      ['poll-fast'],
    );
    assert.ok((await redis.keys('*')).filter((k) => !k.startsWith('two:')).length === 0, 'every key under the prefix');
    await queue.close();
    simulator.removeTask(501);
  });

  it('removes the scheduler of a schedule dropped from the config', async () => {
    const other: ScheduleConfig = { name: 'other', associates: [999], timing: { cron: '*/5 * * * *', tz: 'Europe/Oslo' } };
    const first = replica('drop', [fast, other], new RecordingSink());
    await first.register();
    await first.close();
    const second = replica('drop', [other], new RecordingSink());
    await second.register();
    await second.close();
    const queue = new Queue(POLL_QUEUE, { connection: { url: redisServer.url }, prefix: 'drop' });
    const schedulers = await queue.getJobSchedulers();
    assert.deepEqual(
      schedulers.map((s) => s.id ?? s.key),
      ['poll-other'],
    );
    assert.equal(schedulers[0]?.pattern, '*/5 * * * *');
    assert.equal(schedulers[0]?.tz, 'Europe/Oslo');
    await queue.close();
  });

  it('keeps polling after Redis restarts mid-run', async () => {
    const store = new SnapshotStore(redis, 'restart');
    const logged = new LogLines();
    const scheduler = replica('restart', [fast], new RecordingSink(), createLogger('debug', logged));
    await scheduler.register();
    scheduler.start();
    await waitUntil(async () => (await store.load('fast')).snapshot.version > 2, 5000, 'first polls');
    const seen = logged.lines.length;
    await redisServer.stop();
    await waitUntil(
      () => logged.lines.slice(seen).some((l) => /poll worker: Redis error/.test(l)),
      10_000,
      'the worker to notice the outage',
    );
    await redisServer.start();
    const afterRestart = Date.now();
    await waitUntil(
      async () => ((await store.load('fast').catch(() => null))?.snapshot.lastPollAt ?? 0) > afterRestart + 300,
      15_000,
      'polls to resume after the restart',
    );
    await scheduler.close();
  });

  it('a tick stranded in active by a reply lost in an outage does not silence the schedule', async () => {
    // BullMQ makes a scheduler's next job when a worker receives the current one. A moveToActive (or
    // moveToFinished, which hands out the next job) that ran in Redis just before it stopped, but whose reply
    // was lost, leaves a job in active that no worker holds and no next job: until BullMQ's stall check
    // (lock 30 s + stall interval 30 s) nothing polls. That state, made by hand here:
    const polls: number[] = [];
    const scheduler = newScheduler({
      redisUrl: redisServer.url,
      prefix: 'stranded',
      schedules: [fast],
      store: new SnapshotStore(redis, 'stranded'),
      runPoll: async () => {
        polls.push(Date.now());
      },
      log,
    });
    await scheduler.register();
    const key = (name: string) => `stranded:${POLL_QUEUE}:${name}`;
    const [jobId] = [...(await redis.lrange(key('wait'), 0, -1)), ...(await redis.zrange(key('delayed'), '0', '-1'))];
    assert.ok(jobId, 'the scheduler made its first job');
    await redis
      .multi()
      .lrem(key('wait'), 0, jobId)
      .zrem(key('delayed'), jobId)
      .lpush(key('active'), jobId)
      .set(`${key(jobId)}:lock`, 'a worker that lost the reply', 'PX', 30_000)
      .exec();
    scheduler.start();
    // The outage: every connection but this one is dropped, and reconnects.
    await redis.call('CLIENT', 'KILL', 'TYPE', 'normal');
    await waitUntil(() => polls.length >= 2, 10_000, 'polls after the reconnect (not only after the stall check)');
    await scheduler.close();
  });

  it('a poll that ends during a Redis outage does not leave its lock behind', async () => {
    /** Counts releases that failed (Redis down): the scheduler retries them. */
    class CountedUnlocks extends PollLock {
      failed = 0;
      override async unlock(schedule: string, token: string): Promise<void> {
        try {
          await super.unlock(schedule, token);
        } catch (error) {
          this.failed++;
          throw error;
        }
      }
    }
    const lock = new CountedUnlocks(redis, 'lock');
    const polls: number[] = [];
    let inFlight: (() => void) | null = null;
    const scheduler = newScheduler({
      redisUrl: redisServer.url,
      prefix: 'lock',
      schedules: [fast],
      store: { pollLock: () => lock },
      runPoll: async () => {
        polls.push(Date.now());
        if (polls.length === 1) await new Promise<void>((resolve) => (inFlight = resolve)); // a slow SOAP call
      },
      lockTtlMs: 60_000,
      log,
    });
    await scheduler.register();
    scheduler.start();
    await waitUntil(() => inFlight !== null, 5000, 'the first poll to start');
    await redisServer.stop();
    (inFlight as unknown as () => void)(); // the poll finishes while Redis is down: its unlock fails
    await waitUntil(() => lock.failed > 0, 10_000, 'the release to fail while Redis is down');
    await redisServer.start();
    const restarted = Date.now();
    await waitUntil(() => polls.some((t) => t > restarted), 10_000, 'a poll after the restart (the lock TTL is 60 s)');
    await scheduler.close();
  });

  it('a lock taken by a SET whose reply was lost in an outage is given back', async () => {
    /** The SET reached Redis and took the lock; its reply did not come back (the caller sees an error). */
    class ReplyLost extends PollLock {
      lost = false;
      override async tryLock(schedule: string, token: string, ttlMs: number): Promise<boolean> {
        const taken = await super.tryLock(schedule, token, ttlMs);
        if (this.lost) return taken;
        this.lost = true;
        throw new Error('Connection is closed.');
      }
    }
    const polls: number[] = [];
    const scheduler = newScheduler({
      redisUrl: redisServer.url,
      prefix: 'lostset',
      schedules: [fast],
      store: { pollLock: () => new ReplyLost(redis, 'lostset') },
      runPoll: async () => {
        polls.push(Date.now());
      },
      lockTtlMs: 60_000,
      log,
    });
    await scheduler.register();
    scheduler.start();
    await waitUntil(() => polls.length >= 2, 10_000, 'polls after the failed tick (the lock TTL is 60 s)');
    await scheduler.close();
  });

  it('a poll longer than the lock TTL keeps its lock (renewed), so the schedule never polls twice at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let polls = 0;
    const store = new SnapshotStore(redis, 'renew');
    // Two replicas: each worker takes a tick while the other's poll is still running.
    const replicas = [1, 2].map(() =>
      newScheduler({
        redisUrl: redisServer.url,
        prefix: 'renew',
        schedules: [fast],
        store,
        runPoll: async () => {
          polls++;
          maxRunning = Math.max(maxRunning, ++running);
          await sleep(2000); // twice the lock TTL below: only renewals keep it
          running--;
        },
        // Renewed every third of it; a longer TTL than needed, so a loaded machine does not lose it between renewals.
        lockTtlMs: 1000,
        log,
      }),
    );
    for (const replica of replicas) {
      await replica.register();
      replica.start();
    }
    await waitUntil(() => polls >= 2, 10_000, 'two polls');
    await Promise.all(replicas.map((r) => r.close()));
    assert.equal(maxRunning, 1, 'never two polls of one schedule at once');
  });

  it('a scheduler removed by a replica with another config is not brought back after a reconnect', async () => {
    const logged = new LogLines();
    const old = replica('gone', [fast], new RecordingSink(), createLogger('debug', logged));
    await old.register();
    const newer = replica('gone', [], new RecordingSink());
    await newer.register(); // removes poll-fast
    await newer.close();
    await redis.call('CLIENT', 'KILL', 'TYPE', 'normal');
    await waitUntil(
      () => logged.lines.some((l) => /scheduler of this schedule was removed/.test(l)),
      10_000,
      'the repair after the reconnect',
    );
    await old.close();
    const queue = new Queue(POLL_QUEUE, { connection: { url: redisServer.url }, prefix: 'gone' });
    assert.deepEqual(await queue.getJobSchedulers(), []);
    await queue.close();
  });

  it('close() during a repair after a reconnect waits for it, and nothing is upserted on the closing queue', async () => {
    const queue = new Queue(POLL_QUEUE, { connection: { url: redisServer.url }, prefix: 'closing' });
    const busy: ScheduleConfig = { name: 'busy', associates: [102], timing: { every: 200 } };
    const logged = new LogLines();
    let closing: Promise<void> | null = null;
    let releasePoll: (() => void) | null = null;
    const scheduler: PollScheduler = newScheduler({
      redisUrl: redisServer.url,
      prefix: 'closing',
      schedules: [slow, busy],
      store: new SnapshotStore(redis, 'closing'),
      // busy's poll runs until the repair is over, so close() (which waits for it) takes that long.
      runPoll: (schedule) => (schedule.name === 'busy' ? new Promise<void>((resolve) => (releasePoll = resolve)) : Promise.resolve()),
      log: createLogger('debug', {
        write(line: string) {
          logged.write(line);
          // The repair has begun: close while its first command is in flight.
          if (!closing && /checking the job schedulers after a reconnect/.test(line)) setImmediate(() => (closing = scheduler.close()));
          if (/check stopped: closing|scheduled it again/.test(line)) releasePoll?.();
        },
      }),
    });
    await scheduler.register();
    const stranded = await strandFirstJob('closing', 30_000);
    scheduler.start();
    await waitUntil(() => releasePoll !== null, 5000, "busy's poll to start");
    await redis.call('CLIENT', 'KILL', 'TYPE', 'normal');
    await waitUntil(() => closing !== null, 10_000, 'the repair to begin');
    // However the repair ends (stopped by close(), an upsert, or a command failed under load), the poll may end then:
    // bounded, so a repair that never ends fails this test instead of hanging the file.
    await waitUntil(() => (scheduler as unknown as { repair: Promise<void> | null }).repair === null, 20_000, 'the repair to end');
    (releasePoll as (() => void) | null)?.();
    await closing;
    assert.equal(logged.lines.filter((l) => /scheduled it again/.test(l)).length, 0, 'nothing upserted after close() began');
    assert.equal(`repeat:poll-slow:${(await queue.getJobScheduler('poll-slow'))?.next}`, stranded);
    await queue.close();
  });

  it('a tick stranded without a reconnect (its lock ran out) is repaired by the periodic check', async () => {
    const polls: number[] = [];
    const scheduler = newScheduler({
      redisUrl: redisServer.url,
      prefix: 'periodic',
      schedules: [fast],
      store: new SnapshotStore(redis, 'periodic'),
      runPoll: async () => {
        polls.push(Date.now());
      },
      lockTtlMs: 1500, // checks every 500 ms
      log,
    });
    await scheduler.register();
    await strandFirstJob('periodic', 300, 'fast');
    scheduler.start();
    // No reconnect: BullMQ's stall check (30 s) would be the only other way out.
    await waitUntil(() => polls.length >= 2, 10_000, 'polls after the periodic check');
    await scheduler.close();
  });

  it('the stranded tick, when the stall check returns it, does not start a second chain', async () => {
    const queue = new Queue(POLL_QUEUE, { connection: { url: redisServer.url }, prefix: 'stall' });
    const scheduler = newScheduler({
      redisUrl: redisServer.url,
      prefix: 'stall',
      schedules: [slow],
      store: new SnapshotStore(redis, 'stall'),
      runPoll: async () => undefined,
      stall: { lockDurationMs: 1000, stalledIntervalMs: 500 },
      log,
    });
    await scheduler.register();
    const stranded = await strandFirstJob('stall', 1000);
    scheduler.start();
    await redis.call('CLIENT', 'KILL', 'TYPE', 'normal'); // the repair after the reconnect makes the next tick
    await waitUntil(
      async () => (await queue.getJobState(stranded)) === 'completed',
      12_000,
      'the stall check to return the stranded tick, polled',
    );
    await scheduler.close();
    const key = (name: string) => `stall:${POLL_QUEUE}:${name}`;
    assert.equal(await redis.zcard(key('delayed')), 1, 'exactly one next tick');
    assert.equal(await redis.llen(key('wait')), 0);
    assert.equal(await redis.llen(key('active')), 0);
    await queue.close();
  });
});
