import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { evaluate } from '../src/core/evaluate.ts';
import { emptySnapshot, type Snapshot } from '../src/core/model.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import { SnapshotCache } from '../src/store/snapshot-cache.ts';
import { CHANGE_LOG_LENGTH } from '../src/store/snapshot-scripts.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { redisTraffic } from './helpers/redis-traffic.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { MINUTE, T0, ok, rules, task } from './helpers/tasks.ts';

/** Incremental snapshot storage: what a commit writes, what a read brings back, and the old format. */

const r = rules();
const running = (id: number, progressPercent: number, more = {}) =>
  task({ id, state: 'Started', progressPercent, startCount: 1, lastStarted: T0, parameterObject: { selection: String(id) }, ...more });

/** One poll's worth of store work without SOAP: load, evaluate, commit. */
async function poll(store: SnapshotStore, schedule: string, tasks: ReturnType<typeof running>[], minutes: number) {
  const { snapshot } = await store.load(schedule);
  const { next, events } = evaluate(snapshot, ok(...tasks), T0 + minutes * MINUTE, r);
  const result = await store.commit(next, snapshot.version, null);
  return { result, events };
}

/** What a process that never saw this schedule reads. */
async function fresh(redis: Redis, prefix: string, schedule: string): Promise<Snapshot> {
  return (await new SnapshotStore(redis, prefix).load(schedule)).snapshot;
}

describe('incremental snapshot storage on a real Redis', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let observer: Redis;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    observer = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    observer.disconnect();
    await server.close();
  });

  it('stores one hash field per task and reads back exactly what was committed (every field, nulls, unknown states)', async () => {
    const store = new SnapshotStore(redis, 'i1');
    const odd = task({
      id: 9,
      name: 'Ünïcode "quoted" \\ name',
      state: 'Paused',
      associateId: 0,
      detailsTable: 3,
      detailsRecord: 4,
      isSystemTask: null,
      isInternalTask: true,
      parameterObject: { a: '1', 'key with space': '' },
      lastStarted: T0 - 1,
      created: T0 - 2,
      startCount: null,
      databaseSerialNumber: 'db',
      context: 'ctx',
      result: 'res',
      description: 'line1\nline2',
      response: 'resp',
      request: 'req',
      progressDescription: 'half',
      progressPercent: 12.5,
    });
    await poll(store, 'sales', [running(1, 10), odd], 0);
    const keys = scheduleKeys('i1', 'sales');
    assert.deepEqual((await redis.hkeys(keys.tasks)).sort(), ['1', '9']);
    assert.equal(await redis.hget(keys.snapshot, 'data'), null);
    const read = await fresh(redis, 'i1', 'sales');
    assert.deepEqual(read, store.cache.get('sales')?.snapshot);
    assert.deepEqual(read.tasks['9']?.task, odd);
  });

  it('a quiet poll sends a small fixed amount whatever the number of tasks, and one changed task adds about its record', async () => {
    const store = new SnapshotStore(redis, 'i2');
    const tasks = Array.from({ length: 2000 }, (_, i) => running(1000 + i, i % 90));
    await poll(store, 'big', tasks, 0);
    let quiet: Awaited<ReturnType<typeof poll>> | undefined;
    const quietTraffic = await redisTraffic(observer, async () => (quiet = await poll(store, 'big', tasks, 1)));
    assert.equal(quiet?.result.committed, true);
    assert.ok(quietTraffic.input + quietTraffic.output < 2048, `a quiet poll moved ${JSON.stringify(quietTraffic)} bytes`);

    const moved = tasks.map((t) => (t.id === 1500 ? { ...t, progressPercent: 99 } : t));
    const changed = await redisTraffic(observer, () => poll(store, 'big', moved, 2));
    const extra = changed.input + changed.output - (quietTraffic.input + quietTraffic.output);
    assert.ok(extra < 600, `one changed task added ${extra} bytes`);
    assert.equal((await fresh(redis, 'i2', 'big')).tasks['1500']?.task.progressPercent, 99);
  });

  it("two replicas alternating polls of one schedule see each other's commits and detect a failure once", async () => {
    // Two processes in all but name: separate connections, separate in-process copies.
    const other = new Redis(server.url);
    const replicas = [new SnapshotStore(redis, 'i3'), new SnapshotStore(other, 'i3')];
    const table = new Map([1, 2, 3, 4].map((id) => [id, running(id, 0)]));
    const failedEvents: string[] = [];
    for (let round = 0; round < 12; round++) {
      // The table moves between polls: progress, a failure at round 5, a task vanishing, a new one appearing.
      table.set(1, running(1, round * 5));
      if (round === 5) table.set(2, { ...table.get(2)!, state: 'Failed' });
      if (round === 7) table.delete(3);
      if (round === 8) table.set(5, running(5, 1));
      const store = replicas[round % 2]!;
      const { result, events } = await poll(store, 'sales', [...table.values()], round);
      assert.equal(result.committed, true, `round ${round} committed`);
      failedEvents.push(...events.filter((e) => e.kind === 'failed').map((e) => e.id));
      assert.deepEqual(store.cache.get('sales')?.snapshot, await fresh(redis, 'i3', 'sales'), `round ${round}: the copy equals Redis`);
    }
    assert.equal(failedEvents.length, 1, `one failed event, got ${failedEvents.join(', ')}`);
    const final = await fresh(redis, 'i3', 'sales');
    assert.deepEqual(Object.keys(final.tasks), ['1', '2', '4', '5']);
    other.disconnect();
  });

  it('a replica that committed between two polls of another: the other reads only what changed and commits on top', async () => {
    const a = new SnapshotStore(redis, 'i4');
    const other = new Redis(server.url);
    const b = new SnapshotStore(other, 'i4');
    const tasks = Array.from({ length: 500 }, (_, i) => running(i + 1, 10));
    await poll(a, 'sales', tasks, 0);
    const unchangedBefore = a.cache.get('sales')!.snapshot.tasks['7'];
    const failing = tasks.map((t) => (t.id === 42 ? { ...t, state: 'Failed' } : t));
    const byB = await poll(b, 'sales', failing, 1);
    assert.deepEqual(
      byB.events.map((e) => e.kind),
      ['failed'],
    );

    let snapshot = emptySnapshot('sales');
    const catchUp = await redisTraffic(observer, async () => {
      ({ snapshot } = await a.load('sales'));
    });
    assert.ok(catchUp.output < 1000, `catching up on one changed task read ${catchUp.output} bytes (the whole snapshot is ~100 KB)`);
    assert.equal(snapshot.version, 2, "A sees B's commit");
    assert.equal(snapshot.tasks['42']?.task.state, 'Failed');
    assert.equal(snapshot.tasks['7'], unchangedBefore, 'records B did not change keep their objects in A');
    const byA = evaluate(snapshot, ok(...failing), T0 + 2 * MINUTE, r);
    assert.deepEqual(byA.events, [], 'A does not detect the failure again');
    assert.equal((await a.commit(byA.next, snapshot.version, null)).committed, true);
    assert.deepEqual(await fresh(redis, 'i4', 'sales'), a.cache.get('sales')?.snapshot);
    other.disconnect();
  });

  it('a replica too far behind for the change log reads the whole snapshot', async () => {
    const a = new SnapshotStore(redis, 'i5');
    const b = new SnapshotStore(redis, 'i5');
    await poll(a, 'sales', [running(1, 0), running(2, 0)], 0);
    for (let i = 1; i <= CHANGE_LOG_LENGTH + 2; i++) await poll(b, 'sales', [running(1, i), running(2, 0)], i);
    assert.ok((await redis.hlen(scheduleKeys('i5', 'sales').changes)) <= CHANGE_LOG_LENGTH, 'the change log stays bounded');
    const { snapshot } = await a.load('sales');
    assert.deepEqual(snapshot, b.cache.get('sales')?.snapshot);
  });

  it('a stored snapshot with the known version but another commit (Redis restored from an older copy) is never diffed against', async () => {
    const a = new SnapshotStore(redis, 'i6');
    await poll(a, 'sales', [running(1, 0)], 0);
    await poll(a, 'sales', [running(1, 1)], 1);
    // Someone else's version 2: same number, different contents and commit id.
    const b = new SnapshotStore(redis, 'i6b');
    await poll(b, 'sales', [running(1, 0)], 0);
    await poll(b, 'sales', [running(7, 5)], 1);
    const from = scheduleKeys('i6b', 'sales');
    const to = scheduleKeys('i6', 'sales');
    for (const part of ['snapshot', 'tasks', 'alerts'] as const) {
      await redis.del(to[part]);
      await redis.copy(from[part], to[part]);
    }
    const stale = a.cache.get('sales')!.snapshot;
    const result = await a.commit({ ...stale, lastPollAt: 1 }, stale.version, null);
    assert.equal(result.committed, false, 'the diff base no longer matches: nothing written');
    const { snapshot } = await a.load('sales');
    assert.deepEqual(Object.keys(snapshot.tasks), ['7'], 'the next load reads what Redis really holds');
  });

  it('reads a snapshot of the old format once and rewrites it in the new layout on the next commit', async () => {
    const keys = scheduleKeys('i7', 'sales');
    const old: Snapshot = {
      ...emptySnapshot('sales'),
      version: 41,
      lastPollAt: T0,
      lastSuccessAt: T0,
      tasks: { '5': { task: running(5, 30), firstSeenAt: T0 - MINUTE, stateSince: T0 - MINUTE, progressSince: T0 } },
      alerts: { 'stalled:5': { kind: 'stalled', subject: '5', eventId: 'sales:stalled:5:1', firedAt: T0, lastNotifiedAt: T0, repeats: 0 } },
    };
    const { maintenance: _dropped, ...withoutNewerFields } = old;
    await redis.hset(keys.snapshot, 'version', '41', 'data', JSON.stringify(withoutNewerFields), 'commit', 'old-commit');
    const store = new SnapshotStore(redis, 'i7');
    const state = await store.load('sales');
    assert.equal(state.corrupt, undefined);
    assert.deepEqual(state.snapshot, old, 'fields the old format lacks default to their empty value');
    const { next } = evaluate(state.snapshot, ok(running(5, 30)), T0 + MINUTE, r);
    assert.equal((await store.commit(next, 41, null)).committed, true);
    assert.equal(await redis.hget(keys.snapshot, 'data'), null, 'the old JSON is gone');
    assert.equal(await redis.hget(keys.snapshot, 'version'), '42');
    assert.deepEqual(await redis.hkeys(keys.tasks), ['5']);
    assert.deepEqual(await redis.hkeys(keys.alerts), ['stalled:5']);
    assert.deepEqual(await fresh(redis, 'i7', 'sales'), store.cache.get('sales')?.snapshot);
  });

  it('leaves out and reports an unreadable task record, and the next commit rewrites the whole snapshot', async () => {
    const store = new SnapshotStore(redis, 'i8');
    await poll(store, 'sales', [running(1, 0), running(2, 0)], 0);
    const keys = scheduleKeys('i8', 'sales');
    await redis.hset(keys.tasks, '2', '["not", "a record"]', '3', '{bad json');
    const reader = new SnapshotStore(redis, 'i8');
    const state = await reader.load('sales');
    const message = state.corrupt?.message ?? '';
    assert.match(
      message,
      /^snapshot of schedule "sales" in Redis is unreadable \(.*\); left out; they count as first seen on the next poll$/,
    );
    assert.match(message, /task 2: not a task record/);
    assert.match(message, /task 3: /);
    assert.deepEqual(Object.keys(state.snapshot.tasks), ['1']);
    const { next } = evaluate(state.snapshot, ok(running(1, 0), running(2, 0)), T0 + MINUTE, r);
    assert.equal((await reader.commit(next, state.snapshot.version, null)).committed, true);
    assert.deepEqual((await redis.hkeys(keys.tasks)).sort(), ['1', '2'], 'the junk field 3 is gone');
    assert.equal((await new SnapshotStore(redis, 'i8').load('sales')).corrupt, undefined);
  });

  it('schedule-level fields pass through as they are, including ones the store does not know', async () => {
    const store = new SnapshotStore(redis, 'i9');
    const snapshot = {
      ...emptySnapshot('sales'),
      maintenance: { state: 'OfflineMaintenance', since: T0 },
      futureField: { x: 1 },
    } as Snapshot;
    assert.equal((await store.commit(snapshot, 0, null)).committed, true);
    const read = await fresh(redis, 'i9', 'sales');
    assert.deepEqual(read.maintenance, { state: 'OfflineMaintenance', since: T0 });
    assert.deepEqual((read as unknown as { futureField: unknown }).futureField, { x: 1 });
  });

  it('a shared cache tells its listeners about every new snapshot, from commits and from reads', async () => {
    const cache = new SnapshotCache();
    const seen: number[] = [];
    cache.subscribe((_schedule, snapshot) => seen.push(snapshot.version));
    const mine = new SnapshotStore(redis, 'i10', cache);
    const elsewhere = new SnapshotStore(redis, 'i10');
    await poll(mine, 'sales', [running(1, 0)], 0);
    await poll(elsewhere, 'sales', [running(1, 5)], 1);
    await mine.refresh('sales');
    await mine.refresh('sales');
    assert.deepEqual(seen, [0, 1, 2], "first read, own commit, the other replica's commit; nothing for an unchanged read");
  });
});
