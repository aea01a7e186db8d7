/**
 * Redis state of schedules that are no longer configured (snapshot, outbox, lock: every `{sched:NAME}` key)
 * is removed at start instead of staying forever, once nothing of it can still be needed.
 */
import type { NotificationBatch } from '../core/model.ts';
import type { Logger } from '../log.ts';
import { isCluster, type RedisClient } from '../redis/connections.ts';
import { scheduleKeys } from './keys.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/**
 * Deletes a schedule's keys only while its outbox is empty and no poll holds its lock, atomically (the keys
 * share the schedule's hash tag, so this is one Cluster slot). KEYS[1] outbox, KEYS[2] lock, then the rest.
 */
const FORGET_SCRIPT = `
if redis.call('HLEN', KEYS[1]) > 0 then return -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
return redis.call('DEL', unpack(KEYS))
`;

export interface RemovedSchedulesDeps {
  redis: RedisClient;
  prefix: string;
  configured: readonly string[];
  store: SnapshotStore;
  /** Where notifications still waiting in a removed schedule's outbox go (the notifier). */
  sink: { enqueue(batch: NotificationBatch): Promise<void> };
  log: Logger;
}

export interface RemovedSchedulesReport {
  /** Schedules whose keys were deleted, with how many keys. */
  removed: Record<string, number>;
  /** Schedules whose keys were kept this time, and why; they are looked at again at the next start. */
  kept: Record<string, string>;
  /** Notifications handed to the notifier from removed schedules' outboxes. */
  relayed: string[];
}

/** Redis MATCH patterns treat * ? [ ] \ specially. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every `{sched:NAME}` key under the prefix, by schedule, from every master (each Cluster master holds some). */
export async function scheduleKeysInRedis(redis: RedisClient, prefix: string): Promise<Map<string, string[]>> {
  const pattern = `${escapeGlob(prefix)}:{sched:*}:*`;
  const nameOf = new RegExp(`^${escapeRegExp(prefix)}:\\{sched:([^}]+)\\}:`);
  const byName = new Map<string, string[]>();
  for (const node of isCluster(redis) ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const name = nameOf.exec(key)?.[1];
        if (name !== undefined) byName.set(name, [...(byName.get(name) ?? []), key]);
      }
    } while (cursor !== '0');
  }
  return byName;
}

/**
 * Finds schedules with keys in Redis that are not configured; hands any notifications still waiting in their
 * outbox to the notifier (idempotently, as a poll would), then deletes their keys unless a poll holds the lock.
 * Call it after the poll schedulers are registered (that removed the removed schedules' job schedulers, so no
 * new poll of them starts).
 */
export async function forgetRemovedSchedules(deps: RemovedSchedulesDeps): Promise<RemovedSchedulesReport> {
  const report: RemovedSchedulesReport = { removed: {}, kept: {}, relayed: [] };
  const configured = new Set(deps.configured);
  const found = await scheduleKeysInRedis(deps.redis, deps.prefix);
  for (const [schedule, keys] of found) {
    if (configured.has(schedule)) continue;
    const { outbox, lock } = scheduleKeys(deps.prefix, schedule);
    const { pendingBatches } = await deps.store.load(schedule);
    if (pendingBatches.length > 0) {
      try {
        for (const batch of pendingBatches) await deps.sink.enqueue(batch);
        await deps.store.acknowledge(
          schedule,
          pendingBatches.map((b) => b.id),
        );
        report.relayed.push(...pendingBatches.map((b) => b.id));
      } catch (error) {
        report.kept[schedule] =
          `its outbox holds ${pendingBatches.length} notification(s) that could not be handed over (${(error as Error).message})`;
        continue;
      }
    }
    const others = keys.filter((key) => key !== outbox && key !== lock);
    const result = Number(await deps.redis.eval(FORGET_SCRIPT, 2 + others.length, outbox, lock, ...others));
    if (result === -1) report.kept[schedule] = 'new notifications arrived in its outbox';
    else if (result === -2) report.kept[schedule] = 'a poll of it is still running (its lock is held)';
    else report.removed[schedule] = result;
  }
  if (report.relayed.length > 0) {
    deps.log.info({ batches: report.relayed }, 'handed notifications left by schedules no longer in the config to the notifier');
  }
  if (Object.keys(report.removed).length > 0) {
    deps.log.info({ schedules: report.removed }, 'removed the Redis state (snapshot, outbox, lock) of schedules no longer in the config');
  }
  for (const [schedule, why] of Object.entries(report.kept)) {
    deps.log.warn({ schedule, why }, 'kept the Redis state of a schedule no longer in the config; it is looked at again at the next start');
  }
  return report;
}
