import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { emptySnapshot, type NotificationBatch } from '../src/core/model.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import { batchIdFor, SnapshotStore } from '../src/store/snapshot-store.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

function batch(schedule: string, ids: string[], createdAt = 1): NotificationBatch {
  return { id: batchIdFor(schedule, ids), schedule, createdAt, events: [] };
}

describe('SnapshotStore on a real Redis', () => {
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

  it('loads an empty snapshot for a schedule never written', async () => {
    const state = await new SnapshotStore(redis, 'p1').load('sales');
    assert.deepEqual(state.snapshot, emptySnapshot('sales'));
    assert.deepEqual(state.pendingBatches, []);
    assert.deepEqual(state.unreadableBatches, []);
  });

  it('commits with compare-and-set: a stale version loses and writes nothing', async () => {
    const store = new SnapshotStore(redis, 'p2');
    const next = { ...emptySnapshot('sales'), consecutiveFailures: 1 };
    const first = await store.commit(next, 0, batch('sales', ['a']));
    assert.equal(first.committed, true);
    const stale = await store.commit({ ...next, consecutiveFailures: 2 }, 0, batch('sales', ['b']));
    assert.deepEqual(stale, { committed: false, currentVersion: 1 });
    const state = await store.load('sales');
    assert.equal(state.snapshot.version, 1);
    assert.equal(state.snapshot.consecutiveFailures, 1);
    assert.deepEqual(
      state.pendingBatches.map((b) => b.id),
      [batchIdFor('sales', ['a'])],
      'the losing batch never reached the outbox',
    );
  });

  it('keeps outbox batches until acknowledged, oldest first', async () => {
    const store = new SnapshotStore(redis, 'p3');
    await store.commit(emptySnapshot('s'), 0, batch('s', ['x'], 20));
    await store.commit(emptySnapshot('s'), 1, batch('s', ['y'], 10));
    assert.deepEqual(
      (await store.load('s')).pendingBatches.map((b) => b.createdAt),
      [10, 20],
    );
    await store.acknowledge('s', [batchIdFor('s', ['x']), batchIdFor('s', ['y'])]);
    assert.deepEqual((await store.load('s')).pendingBatches, []);
  });

  it('removes and reports an unreadable outbox entry instead of failing every poll', async () => {
    const store = new SnapshotStore(redis, 'p7');
    await store.commit(emptySnapshot('s'), 0, batch('s', ['good']));
    await redis.hset(scheduleKeys('p7', 's').outbox, 'bad', '{not json', 'odd', '[]');
    const state = await store.load('s');
    assert.deepEqual(
      state.pendingBatches.map((b) => b.id),
      [batchIdFor('s', ['good'])],
    );
    assert.deepEqual(state.unreadableBatches.sort(), ['bad', 'odd']);
    assert.deepEqual(await redis.hkeys(scheduleKeys('p7', 's').outbox), [batchIdFor('s', ['good'])]);
  });

  it('batch ids depend on the event ids only, not their order', () => {
    assert.equal(batchIdFor('s', ['a', 'b']), batchIdFor('s', ['b', 'a']));
    assert.notEqual(batchIdFor('s', ['a']), batchIdFor('s', ['a', 'b']));
    assert.notEqual(batchIdFor('s', ['a']), batchIdFor('t', ['a']));
  });

  it('reports a corrupt snapshot and falls back to an empty one at the same version', async () => {
    const store = new SnapshotStore(redis, 'p4');
    await redis.hset(scheduleKeys('p4', 'sales').snapshot, 'version', '7', 'data', '{not json');
    const state = await store.load('sales');
    assert.match(state.corrupt?.message ?? '', /snapshot of schedule "sales" in Redis is unreadable/);
    assert.equal(state.snapshot.version, 7, 'the next commit still compares against the stored version');
    assert.equal((await store.commit(state.snapshot, 7, null)).committed, true);
  });

  it('loadAll reads every schedule in one pipeline and skips unreadable ones', async () => {
    const store = new SnapshotStore(redis, 'p5');
    await store.commit({ ...emptySnapshot('a'), lastSuccessAt: 5 }, 0, null);
    await redis.hset(scheduleKeys('p5', 'b').snapshot, 'version', '1', 'data', '[]');
    const all = await store.loadAll(['a', 'b', 'c']);
    assert.deepEqual(
      all.map((s) => [s.schedule, s.version]),
      [
        ['a', 1],
        ['c', 0],
      ],
    );
  });
});
