import { createHash, randomUUID } from 'node:crypto';
import { emptySnapshot, type NotificationBatch, type Snapshot } from '../core/model.ts';
import { isCluster, type RedisClient } from '../redis/connections.ts';
import { scheduleKeys } from './keys.ts';
import { CorruptSnapshotError, decodeSnapshot, encodeSnapshot } from './snapshot-codec.ts';

/**
 * Writes the next snapshot only if nobody wrote since we read (version compare-and-set), and in the
 * same atomic step parks the poll's notification batch in the schedule's outbox. Either both land
 * or neither does, so a crash between detection and write can neither lose nor duplicate an event.
 */
const COMMIT_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  -- Our own commit, resent by the client after a reconnect lost the first reply: it did land.
  if current == tonumber(ARGV[2]) and redis.call('HGET', KEYS[1], 'commit') == ARGV[6] then return -1 end
  return current
end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3], 'commit', ARGV[6])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
return -1
`;

const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const EXTEND_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

export type CommitResult = { committed: true; snapshot: Snapshot } | { committed: false; currentVersion: number };

export interface LoadedState {
  snapshot: Snapshot;
  /** Batches committed earlier whose hand-over to the notifier did not finish (crash, Redis blip). */
  pendingBatches: NotificationBatch[];
  /** Outbox entries that could not be read (and were removed so they cannot block every poll). */
  unreadableBatches: string[];
  /** Set when the stored snapshot was unreadable and an empty one is used instead. */
  corrupt?: CorruptSnapshotError;
}

function decodeOutbox(entries: Record<string, string>): { batches: NotificationBatch[]; unreadable: string[] } {
  const batches: NotificationBatch[] = [];
  const unreadable: string[] = [];
  for (const [id, raw] of Object.entries(entries)) {
    try {
      const batch = JSON.parse(raw) as NotificationBatch;
      if (batch && typeof batch.id === 'string' && Array.isArray(batch.events)) batches.push(batch);
      else unreadable.push(id);
    } catch {
      unreadable.push(id);
    }
  }
  return { batches: batches.sort((a, b) => a.createdAt - b.createdAt), unreadable };
}

export class SnapshotStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** One round trip: the snapshot and the schedule's outbox. */
  async load(schedule: string): Promise<LoadedState> {
    const keys = scheduleKeys(this.prefix, schedule);
    const results = await this.redis.multi().hmget(keys.snapshot, 'version', 'data').hgetall(keys.outbox).exec();
    if (!results) throw new Error('Redis transaction aborted while loading the snapshot');
    const [snapshotReply, outboxReply] = results;
    if (snapshotReply?.[0]) throw snapshotReply[0];
    if (outboxReply?.[0]) throw outboxReply[0];
    const [versionRaw, data] = (snapshotReply?.[1] ?? [null, null]) as [string | null, string | null];
    const version = Number(versionRaw ?? 0);
    const { batches: pendingBatches, unreadable } = decodeOutbox((outboxReply?.[1] ?? {}) as Record<string, string>);
    if (unreadable.length > 0) await this.redis.hdel(keys.outbox, ...unreadable);
    try {
      return { snapshot: decodeSnapshot(schedule, data, version), pendingBatches, unreadableBatches: unreadable };
    } catch (error) {
      if (!(error instanceof CorruptSnapshotError)) throw error;
      return { snapshot: { ...emptySnapshot(schedule), version }, pendingBatches, unreadableBatches: unreadable, corrupt: error };
    }
  }

  /** All schedules' snapshots in one round trip (metrics). Unreadable ones are skipped. */
  async loadAll(schedules: readonly string[]): Promise<Snapshot[]> {
    if (schedules.length === 0) return [];
    const results = await this.readSnapshots(schedules);
    const snapshots: Snapshot[] = [];
    results.forEach(([error, reply], index) => {
      if (error) throw error;
      const schedule = schedules[index]!;
      const [versionRaw, data] = reply as [string | null, string | null];
      try {
        snapshots.push(decodeSnapshot(schedule, data, Number(versionRaw ?? 0)));
      } catch (decodeError) {
        if (!(decodeError instanceof CorruptSnapshotError)) throw decodeError;
      }
    });
    return snapshots;
  }

  /**
   * One pipeline on a single node. On a Cluster each schedule's keys live in their own slot and a pipeline
   * must stay within one, so the reads are sent concurrently instead (ioredis groups them per node).
   */
  private async readSnapshots(schedules: readonly string[]): Promise<[Error | null, unknown][]> {
    const fields = ['version', 'data'] as const;
    if (isCluster(this.redis)) {
      const redis = this.redis;
      return Promise.all(
        schedules.map((schedule) =>
          redis.hmget(scheduleKeys(this.prefix, schedule).snapshot, ...fields).then(
            (reply): [Error | null, unknown] => [null, reply],
            (error: unknown): [Error | null, unknown] => [error instanceof Error ? error : new Error(String(error)), null],
          ),
        ),
      );
    }
    const pipeline = this.redis.pipeline();
    for (const schedule of schedules) pipeline.hmget(scheduleKeys(this.prefix, schedule).snapshot, ...fields);
    return (await pipeline.exec()) ?? [];
  }

  /**
   * Compare-and-set on `expectedVersion`; the batch (if any) is parked in the outbox atomically.
   */
  async commit(next: Snapshot, expectedVersion: number, batch: NotificationBatch | null): Promise<CommitResult> {
    const keys = scheduleKeys(this.prefix, next.schedule);
    const written: Snapshot = { ...next, version: expectedVersion + 1 };
    const result = await this.redis.eval(
      COMMIT_SCRIPT,
      2,
      keys.snapshot,
      keys.outbox,
      String(expectedVersion),
      String(written.version),
      encodeSnapshot(written),
      batch?.id ?? '',
      batch ? JSON.stringify(batch) : '',
      randomUUID(),
    );
    const code = Number(result);
    return code === -1 ? { committed: true, snapshot: written } : { committed: false, currentVersion: code };
  }

  /** The notifier has the batch (idempotently): drop it from the outbox. */
  async acknowledge(schedule: string, batchIds: readonly string[]): Promise<void> {
    if (batchIds.length === 0) return;
    await this.redis.hdel(scheduleKeys(this.prefix, schedule).outbox, ...batchIds);
  }

  /** Per-schedule mutual exclusion so an overrunning poll never runs twice at once. */
  async tryLock(schedule: string, token: string, ttlMs: number): Promise<boolean> {
    const key = scheduleKeys(this.prefix, schedule).lock;
    if ((await this.redis.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK') return true;
    // A SET resent after a reconnect finds the lock its first delivery took: that is ours too.
    return (await this.redis.get(key)) === token;
  }

  /** Keeps a held lock alive; false when it was lost (expired and maybe taken by another poll). */
  async extendLock(schedule: string, token: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.eval(EXTEND_LOCK_SCRIPT, 1, scheduleKeys(this.prefix, schedule).lock, token, String(Math.ceil(ttlMs)));
    return Number(reply) === 1;
  }

  async unlock(schedule: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE_LOCK_SCRIPT, 1, scheduleKeys(this.prefix, schedule).lock, token);
  }
}

/**
 * A batch is identified by its events: event ids are deterministic per episode and emitted once,
 * so the same detection (even re-done after a crash or a Redis wipe) always yields the same batch id.
 */
export function batchIdFor(schedule: string, eventIds: readonly string[]): string {
  const digest = createHash('sha256').update([...eventIds].sort().join('\n')).digest('hex').slice(0, 20);
  return `${schedule}.${digest}`;
}
