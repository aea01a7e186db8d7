import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule, UNREADABLE_LOGGED_PER_POLL } from '../src/monitor/poll.ts';
import { UnreadableTaskLog } from '../src/monitor/unreadable-log.ts';
import { createLogger } from '../src/log.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollDeps, RecordingSink, salesSchedule } from './helpers/monitor.ts';

describe('poll pipeline against the simulator and a real Redis', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let prefixCounter = 0;
  let prefix: string;

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    simulator = await startSimulator({ scenario: 'empty' });
  });
  after(async () => {
    redis.disconnect();
    await simulator.close();
    await redisServer.close();
  });
  beforeEach(() => {
    prefix = `t${++prefixCounter}`;
    for (const task of simulator.tasks()) simulator.removeTask(task.id);
  });

  it('reports a failure once, not again on later polls', async () => {
    const sink = new RecordingSink();
    const deps = pollDeps(simulator.url, new SnapshotStore(redis, prefix), sink);
    simulator.upsertTask({
      id: 4711,
      associateId: 101,
      name: 'MailingSend',
      state: 'Started',
      progressPercent: 10,
      startCount: 1,
      lastStarted: Date.now(),
    });
    const first = await pollSchedule(salesSchedule, deps);
    assert.equal(first.result, 'success');
    assert.deepEqual(first.events, []);
    simulator.upsertTask({
      id: 4711,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      progressPercent: 10,
      response: 'relay refused',
    });
    const second = await pollSchedule(salesSchedule, deps);
    assert.deepEqual(
      second.events.map((e) => e.kind),
      ['failed'],
    );
    await pollSchedule(salesSchedule, deps);
    await pollSchedule(salesSchedule, deps);
    assert.equal(sink.eventIds('failed').length, 1);
    assert.equal(sink.batches.length, 1);
    assert.equal(await redis.hlen(scheduleKeys(prefix, 'sales').outbox), 0, 'outbox drained after hand-over');
  });

  it('many unreadable tasks: the first 20 logged one by one, the rest as a count; none again on the next poll', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const deps = {
      ...pollDeps(simulator.url, new SnapshotStore(redis, prefix), new RecordingSink()),
      log: createLogger('warn', sink),
      unreadableLog: new UnreadableTaskLog(),
    };
    // Ids no other test uses: the simulator keeps corrupted fields by id.
    for (let id = 1001; id <= 1150; id++) {
      simulator.upsertTask({ id, associateId: 101, name: `T${id}`, state: 'Started', startCount: 1, lastStarted: Date.now() });
      simulator.corruptField(id, 'LastStarted', 'yesterday');
    }
    const first = await pollSchedule(salesSchedule, deps);
    assert.ok(first.outcome.ok && first.outcome.unreadable?.length === 150);
    const perTask = lines.filter((l) => l.taskId !== undefined);
    assert.equal(perTask.length, UNREADABLE_LOGGED_PER_POLL);
    const summary = lines.filter((l) => l.taskId === undefined);
    assert.equal(summary.length, 1, JSON.stringify(summary));
    assert.equal(summary[0]?.more, 150 - UNREADABLE_LOGGED_PER_POLL);
    assert.match(String(summary[0]?.msg), /more tasks are left out/);
    lines.length = 0;
    await pollSchedule(salesSchedule, deps);
    assert.equal(lines.length, 0, 'the same unreadable tasks are not logged again');
    simulator.corruptField(1150, 'LastStarted', 'last week');
    await pollSchedule(salesSchedule, deps);
    assert.deepEqual(
      lines.map((l) => l.taskId),
      [1150],
      'a new problem is logged',
    );
    for (let id = 1001; id <= 1150; id++) simulator.corruptField(id, 'LastStarted', null);
  });

  it('dry run writes nothing', async () => {
    const sink = new RecordingSink();
    const deps = pollDeps(simulator.url, new SnapshotStore(redis, prefix), sink);
    simulator.upsertTask({ id: 1, associateId: 101, name: 'X', state: 'Failed', lastStarted: Date.now() });
    const report = await pollSchedule(salesSchedule, deps, { dryRun: true });
    assert.deepEqual(
      report.events.map((e) => e.kind),
      ['failed'],
    );
    assert.equal(await redis.exists(scheduleKeys(prefix, 'sales').snapshot), 0);
    assert.equal(sink.batches.length, 0);
  });

  it('two pollers racing on one Redis commit the failure once', async () => {
    simulator.upsertTask({ id: 7, associateId: 102, name: 'Export', state: 'Failed', lastStarted: Date.now() });
    const sinks = [new RecordingSink(), new RecordingSink()];
    const deps = sinks.map((sink) => pollDeps(simulator.url, new SnapshotStore(redis, prefix), sink));
    const results: string[] = [];
    for (let round = 0; round < 10; round++) {
      const reports = await Promise.all(deps.map((d) => pollSchedule(salesSchedule, d)));
      results.push(...reports.map((r) => r.result));
    }
    const failed = sinks.flatMap((s) => s.eventIds('failed'));
    assert.equal(failed.length, 1, `exactly one failed event across both pollers, got ${failed.join(', ')}`);
    assert.ok(results.includes('conflict'), 'the race was real: at least one poll lost the compare-and-set');
  });

  it('a SuperOffice outage counts towards superoffice-down and the next success resolves it', async () => {
    const sink = new RecordingSink();
    const deps = pollDeps(simulator.url, new SnapshotStore(redis, prefix), sink);
    await pollSchedule(salesSchedule, deps);
    simulator.injectFault({ type: 'http500', times: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await pollSchedule(salesSchedule, deps)).result, 'failure');
    assert.deepEqual(sink.eventIds('superoffice-down').length, 1);
    await pollSchedule(salesSchedule, deps);
    const resolved = sink.batches.flatMap((b) => b.events).filter((e) => e.kind === 'resolved');
    assert.deepEqual(
      resolved.map((e) => e.alertKind),
      ['superoffice-down'],
    );
  });

  it('a poll the snapshot store fails is counted once, as a failure, with its real duration', async () => {
    const recorded: [string, number][] = [];
    const instruments = {
      ...noopInstruments,
      pollCompleted: (_s: string, result: string, seconds: number) => void recorded.push([result, seconds]),
    };
    const deadRedis = new Redis(`redis://127.0.0.1:${redisServer.port + 1}`, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    const deps = { ...pollDeps(simulator.url, new SnapshotStore(deadRedis, prefix), new RecordingSink()), instruments };
    await assert.rejects(pollSchedule(salesSchedule, deps));
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]![0], 'failure');
    assert.ok(recorded[0]![1] > 0, 'not a made-up zero duration');
    deadRedis.disconnect();
    const ok = { ...pollDeps(simulator.url, new SnapshotStore(redis, prefix), new RecordingSink()), instruments };
    await pollSchedule(salesSchedule, ok);
    assert.deepEqual(
      recorded.map(([result]) => result),
      ['failure', 'success'],
    );
  });
});
