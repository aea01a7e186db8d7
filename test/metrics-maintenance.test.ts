import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maintenanceCheck, maintenanceNotes } from '../src/metrics/maintenance-readiness.ts';
import { combineReadiness } from '../src/metrics/readiness.ts';
import { SCHEDULE_FAMILIES } from '../src/metrics/snapshot-series.ts';
import { snapshot } from './metrics-fixtures.ts';

/** batchwatch_superoffice_maintenance and the /readyz note come from the shared snapshots, like batchwatch_superoffice_up. */

const now = Date.UTC(2026, 5, 1, 2, 0);
const inMaintenance = snapshot('sales', {
  lastSuccessAt: now - 600_000,
  lastPollAt: now,
  maintenance: { state: 'OfflineMaintenance', since: now - 300_000 },
});
const healthy = snapshot('support', { lastSuccessAt: now, lastPollAt: now });

describe('batchwatch_superoffice_maintenance', () => {
  it('is 1 for a schedule in maintenance and 0 for every other configured schedule; such a schedule is not up', () => {
    const bySchedule: Record<string, typeof healthy | undefined> = { sales: inMaintenance, support: healthy, fresh: undefined };
    const values = (name: string) => {
      const family = SCHEDULE_FAMILIES.find((f) => f.name === name);
      assert.ok(family, name);
      return Object.values(bySchedule).flatMap((s) => family.samples(s).map((sample) => sample.value));
    };
    assert.deepEqual(values('batchwatch_superoffice_maintenance'), [1, 0, 0]);
    assert.deepEqual(values('batchwatch_superoffice_up'), [0, 1, 0]);
    assert.deepEqual(values('batchwatch_consecutive_poll_failures'), [0, 0]);
  });
});

describe('the /readyz maintenance note', () => {
  it('names the schedule, the tenant and its state; ready all the same', async () => {
    assert.deepEqual(maintenanceNotes([inMaintenance, healthy], 'Cust12345'), [
      {
        note: 'schedule sales: tenant Cust12345 is in planned maintenance (OfflineMaintenance) since 2026-06-01T01:55:00.000Z; failed polls are not counted as an outage',
      },
    ]);
    const readiness = combineReadiness([maintenanceCheck(async () => [inMaintenance, healthy], { tenant: 'Cust12345' })]);
    const result = await readiness();
    assert.equal(result.ready, true);
    assert.equal(result.notes?.length, 1);
  });

  it('reads the snapshots at most every maxAgeMs, and a failing read adds nothing (the Redis check says why)', async () => {
    let reads = 0;
    let clock = now;
    let fail = false;
    const check = maintenanceCheck(
      async () => {
        reads += 1;
        if (fail) throw new Error('redis down');
        return [inMaintenance];
      },
      { tenant: 'Cust1', maxAgeMs: 5000, now: () => clock },
    );
    await check();
    await check();
    assert.equal(reads, 1);
    clock += 5000;
    fail = true;
    assert.deepEqual(await check(), []);
    assert.equal(reads, 2);
  });
});
