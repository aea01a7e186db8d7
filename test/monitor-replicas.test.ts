import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { NotificationBatch } from '../src/core/model.ts';
import { pollSchedule } from '../src/monitor/poll.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollDeps, RecordingSink, salesSchedule, testRules } from './helpers/monitor.ts';

/** Whole polls (simulator, incremental store, hand-over) by replicas that take turns: every event reaches a sink once. */

/** A sink whose hand-over fails while `broken` (the notifier's Redis blipped): the batch stays in the outbox. */
class FlakySink extends RecordingSink {
  broken = false;
  override async enqueue(batch: NotificationBatch): Promise<void> {
    if (this.broken) throw new Error('notification queue unreachable');
    await super.enqueue(batch);
  }
}

describe('replicas taking turns polling one schedule', () => {
  let redisServer: PrivateRedis;
  let connections: Redis[];
  let simulator: Simulator;

  before(async () => {
    redisServer = await startRedis();
    connections = [new Redis(redisServer.url), new Redis(redisServer.url), new Redis(redisServer.url)];
    simulator = await startSimulator({ scenario: 'empty' });
  });
  after(async () => {
    for (const c of connections) c.disconnect();
    await simulator.close();
    await redisServer.close();
  });

  it('each event is handed over exactly once, across replicas, a failed hand-over and a replica that falls behind', async () => {
    for (const task of simulator.tasks()) simulator.removeTask(task.id);
    const now = Date.now();
    for (let id = 1; id <= 30; id++) {
      simulator.upsertTask({
        id,
        associateId: id % 2 ? 101 : 102,
        name: `Job${id}`,
        state: 'Started',
        progressPercent: 1,
        startCount: 1,
        lastStarted: now,
      });
    }
    // Three replicas, each with its own connection, in-process copy and sink.
    const sinks = [new FlakySink(), new FlakySink(), new FlakySink()];
    const rules = { ...testRules, stallAfter: 0 };
    const replicas = sinks.map((sink, i) => pollDeps(simulator.url, new SnapshotStore(connections[i]!, 'turns'), sink, rules));
    // Who polls each round: alternating, one replica sitting out several rounds, one taking two in a row.
    const order = [0, 1, 0, 1, 1, 2, 0, 1, 0, 0, 2, 1];
    for (const [round, who] of order.entries()) {
      if (round === 3) simulator.upsertTask({ id: 7, associateId: 101, state: 'Failed', response: 'disk full' });
      if (round === 5) simulator.upsertTask({ id: 8, associateId: 102, state: 'Failed', response: 'timeout' });
      if (round === 6) simulator.removeTask(12);
      if (round === 8)
        simulator.upsertTask({ id: 7, associateId: 101, state: 'Started', startCount: 2, lastStarted: now + 1000, progressPercent: 3 });
      if (round === 9) simulator.upsertTask({ id: 7, associateId: 101, state: 'Succeeded', progressPercent: 100 });
      simulator.upsertTask({ id: 1, associateId: 101, progressPercent: 1 + round });
      // Replica 1's hand-over fails in rounds 3 and 4: what it detected waits in the outbox for another replica.
      sinks[1]!.broken = round === 3 || round === 4;
      const report = await pollSchedule(salesSchedule, replicas[who]!);
      assert.equal(report.result, 'success', `round ${round}`);
    }
    const all = sinks.flatMap((s) => s.batches.flatMap((b) => b.events));
    const ids = all.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `an event handed over twice: ${ids.join(', ')}`);
    assert.deepEqual(all.map((e) => `${e.kind}:${e.subject}`).sort(), ['failed:7', 'failed:8', 'resolved:7']);
    assert.equal(sinks[1]!.batches.length, 0, 'replica 1 never handed anything over');
    assert.ok(sinks[0]!.batches.length > 0 && sinks[2]!.batches.length > 0, 'the others relayed and detected');
    const fresh = await new SnapshotStore(connections[0]!, 'turns').load(salesSchedule.name);
    assert.deepEqual(fresh.pendingBatches, [], 'nothing left in the outbox');
    assert.equal(fresh.snapshot.version, order.length);
    assert.equal(fresh.snapshot.tasks['12'], undefined);
  });
});
