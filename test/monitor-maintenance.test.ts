import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.ts';
import { pollSchedule, type PollDeps } from '../src/monitor/poll.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { TenantStatus } from '../src/superoffice/tenant-status.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollDeps, RecordingSink, salesSchedule } from './helpers/monitor.ts';
import { rules } from './helpers/tasks.ts';

/** One poll with superoffice.tenantStatusUrl: a failed poll asks the tenant state; an unknown state is an outage. */

class Lines {
  readonly lines: { msg: string; level: number }[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as { msg: string; level: number });
  }
  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l.msg)).length;
  }
}

describe('poll with a tenant status service', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let sim: Simulator;
  let deps: PollDeps;
  const sink = new RecordingSink();
  const logs = new Lines();

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    sim = await startSimulator({ scenario: 'empty', tenantStateValidMs: 0 });
    const tenantStatus = new TenantStatus({
      statusUrl: `${new URL(sim.url).origin}/api/state`,
      contextIdentifier: 'Cust1',
      timeoutMs: 1000,
    });
    deps = {
      ...pollDeps(sim.url, new SnapshotStore(redis, 'maint'), sink, rules({ unreachableAfter: 1 })),
      tenantStatus,
      log: createLogger('debug', logs),
    };
  });
  after(async () => {
    redis.disconnect();
    await sim.close();
    await redisServer.close();
  });

  it('a failed poll while the tenant is not Running is maintenance: no event, the state in the snapshot, one log line', async () => {
    assert.equal((await pollSchedule(salesSchedule, deps)).result, 'success');
    assert.equal(sim.stats.tenantStateCalls, 0, 'a successful poll does not ask');
    sim.setTenantState('OfflineMaintenance');
    for (let i = 0; i < 3; i++) {
      const report = await pollSchedule(salesSchedule, deps);
      assert.equal(report.result, 'failure');
      assert.deepEqual(report.outcome.ok ? null : report.outcome.maintenance, { state: 'OfflineMaintenance' });
      assert.deepEqual(report.events, [], 'unreachableAfter 1, yet no superoffice-down');
      assert.equal(report.snapshot.maintenance?.state, 'OfflineMaintenance');
    }
    assert.equal(sim.stats.tenantStateCalls, 3);
    assert.equal(logs.count(/^tenant in planned maintenance/), 1);
    assert.equal(logs.count(/^SuperOffice poll failed during tenant maintenance$/), 3, 'per poll only at debug level');
    assert.ok(logs.lines.filter((l) => /during tenant maintenance/.test(l.msg)).every((l) => l.level === 20));
  });

  it('a status service that fails leaves the state unknown: an ordinary failure, said in a log line', async () => {
    sim.failTenantState(true);
    const report = await pollSchedule(salesSchedule, deps);
    assert.equal(report.result, 'failure');
    assert.equal(report.outcome.ok ? 'ok' : report.outcome.maintenance, undefined);
    assert.equal(report.snapshot.maintenance, null);
    assert.deepEqual(
      report.events.map((e) => e.kind),
      ['superoffice-down'],
    );
    assert.equal(logs.count(/^tenant status unknown .* this failed poll counts as an outage$/), 1);
    assert.equal(logs.count(/^tenant no longer reports maintenance/), 1);
    sim.failTenantState(false);
    sim.setTenantState(null);
    const back = await pollSchedule(salesSchedule, deps);
    assert.deepEqual(
      back.events.map((e) => e.kind),
      ['resolved'],
    );
  });
});
