/**
 * Snapshots in Redis, written incrementally: a commit writes only the tasks and alerts that changed,
 * with a compare-and-set on the version and the poll's notification batch in the same atomic script,
 * so a crash between detection and write can neither lose nor duplicate an event. Reads reuse the
 * in-process copy while Redis still holds the version (and commit id) this process last wrote or read,
 * and otherwise read only what changed since (or the whole snapshot when too far behind).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connections.ts';
import { emptySnapshot, type ActiveAlert, type NotificationBatch, type Snapshot, type TaskRecord } from '../core/model.ts';
import { sameTaskInfo } from '../core/task.ts';
import { Slicer } from '../runtime/event-loop.ts';
import { endedAckKey, scheduleKeys } from './keys.ts';
import { PollLock } from './poll-lock.ts';
import { decodeAlert, decodeMeta, decodeTaskRecord, encodeAlert, encodeMeta, encodeTaskRecord } from './record-codec.ts';
import { SnapshotCache, type KnownSnapshot } from './snapshot-cache.ts';
import { CorruptSnapshotError, decodeSnapshot } from './snapshot-codec.ts';
import { changesBetween } from './snapshot-diff.ts';
import { compactRecord } from './compact-record.ts';
import { COMMIT_SCRIPT, READ_SCRIPT } from './snapshot-scripts.ts';
import { StringPool } from './string-pool.ts';
import type { MutedAlert } from '../core/release.ts';
import { decodeAckHash } from '../silence/ack-store.ts';
import type { StoredAck } from '../silence/codec.ts';
import { decodeMutedHash } from '../silence/muted-store.ts';

export { CorruptSnapshotError };

export type CommitResult = { committed: true; snapshot: Snapshot } | { committed: false; currentVersion: number };

/** What a poll's commit also settles: muted alerts (key and the value the poll read) and acknowledgements (episode ids). */
export interface CommitCleanup {
  muted?: readonly (readonly [key: string, read: string])[];
  acks?: readonly string[];
  /** How long the acknowledgements of ended episodes are kept for the notifier (endedAckKey); 0 or absent: not kept. */
  ackKeepMs?: number;
}

export interface LoadedState {
  snapshot: Snapshot;
  /** Batches committed earlier whose hand-over to the notifier did not finish (crash, Redis blip). */
  pendingBatches: NotificationBatch[];
  /** Outbox entries that could not be read (and were removed so they cannot block every poll). */
  unreadableBatches: string[];
  /** Set when the stored snapshot (or part of it) was unreadable; what could not be read is left out. */
  corrupt?: CorruptSnapshotError;
  /** Alerts the notifier muted and has not told since (src/core/release.ts); `raw` also holds unreadable entries. */
  muted: { entries: Record<string, MutedAlert>; raw: Record<string, string> };
  /** The schedule's acknowledgements by episode id; `keys` also holds unreadable entries. */
  acks: { entries: Record<string, StoredAck>; keys: string[] };
}

/** The side tables of a poll's read: outbox, muted alerts and acknowledgements as flat HGETALL replies (empty when not asked for). */
type Side = string[][];

type ReadReply =
  | ['same', number, string, Side]
  | ['delta', number, string, Side, string, string[], (string | null)[], string[], (string | null)[]]
  | ['full', number, string, Side, string, string[], string[]]
  | ['legacy', number, string, Side, string];

interface ReadResult {
  known: KnownSnapshot;
  outbox: Side;
  corrupt?: CorruptSnapshotError;
}

/** A flat HGETALL reply as an object. */
function pairs(flat: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function decodeOutbox(flat: string[]): { batches: NotificationBatch[]; unreadable: string[] } {
  const batches: NotificationBatch[] = [];
  const unreadable: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const id = flat[i]!;
    try {
      const batch = JSON.parse(flat[i + 1]!) as NotificationBatch;
      if (batch && typeof batch.id === 'string' && Array.isArray(batch.events)) batches.push(batch);
      else unreadable.push(id);
    } catch {
      unreadable.push(id);
    }
  }
  return { batches: batches.sort((a, b) => a.createdAt - b.createdAt), unreadable };
}

/** The read script's reply, checked where it enters: the outer shape; the records are checked as they are decoded. */
function checkReadReply(reply: unknown, seen: KnownSnapshot | undefined): ReadReply {
  const ok =
    Array.isArray(reply) &&
    ['same', 'delta', 'full', 'legacy'].includes(reply[0] as string) &&
    typeof reply[1] === 'number' &&
    typeof reply[2] === 'string' &&
    Array.isArray(reply[3]) &&
    (reply[3] as unknown[]).every(Array.isArray) &&
    (reply[0] === 'same' || reply[0] === 'legacy' || typeof reply[4] === 'string') &&
    ((reply[0] !== 'same' && reply[0] !== 'delta') || seen !== undefined);
  if (!ok) throw new Error(`unexpected reply from the snapshot read script (${String(Array.isArray(reply) ? reply[0] : typeof reply)})`);
  return reply as ReadReply;
}

function sameRecord(a: TaskRecord, b: TaskRecord): boolean {
  return (
    a.firstSeenAt === b.firstSeenAt && a.stateSince === b.stateSince && a.progressSince === b.progressSince && sameTaskInfo(a.task, b.task)
  );
}

function sameAlert(a: ActiveAlert, b: ActiveAlert): boolean {
  return (
    a.kind === b.kind &&
    a.subject === b.subject &&
    a.eventId === b.eventId &&
    a.firedAt === b.firedAt &&
    a.lastNotifiedAt === b.lastNotifiedAt &&
    a.repeats === b.repeats
  );
}

export class SnapshotStore {
  private readonly pool = new StringPool();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Share one cache between the stores of one process (poll and metrics connections): one copy in memory. */
    readonly cache: SnapshotCache = new SnapshotCache(),
  ) {}

  private keys(schedule: string): string[] {
    const k = scheduleKeys(this.prefix, schedule);
    return [k.snapshot, k.tasks, k.alerts, k.outbox, k.changes, k.muted, k.acks];
  }

  /** The snapshot, the schedule's outbox, muted alerts and acknowledgements, in one round trip when nothing else committed since. */
  async load(schedule: string): Promise<LoadedState> {
    const { known, outbox: side, corrupt } = await this.read(schedule, true);
    const [outbox = [], muted = [], acks = []] = side;
    const { batches: pendingBatches, unreadable } = decodeOutbox(outbox);
    if (unreadable.length > 0) await this.redis.hdel(scheduleKeys(this.prefix, schedule).outbox, ...unreadable);
    return {
      snapshot: known.snapshot,
      pendingBatches,
      unreadableBatches: unreadable,
      ...(corrupt ? { corrupt } : {}),
      muted: decodeMutedHash(pairs(muted)),
      acks: decodeAckHash(pairs(acks)),
    };
  }

  /** Brings the in-process copy up to date with Redis (metrics); cheap when nothing changed. Throws when Redis is unreachable. */
  async refresh(schedule: string): Promise<Snapshot> {
    const { known, corrupt } = await this.read(schedule, false);
    if (corrupt) throw corrupt;
    return known.snapshot;
  }

  /** Every schedule's snapshot, refreshed concurrently; unreadable ones are skipped. */
  async loadAll(schedules: readonly string[]): Promise<Snapshot[]> {
    const results = await Promise.all(
      schedules.map((schedule) =>
        this.refresh(schedule).catch((error: unknown) => {
          if (error instanceof CorruptSnapshotError) return null;
          throw error;
        }),
      ),
    );
    return results.filter((s): s is Snapshot => s !== null);
  }

  private async read(schedule: string, withOutbox: boolean): Promise<ReadResult> {
    const seen = this.cache.get(schedule);
    const reply = checkReadReply(
      await READ_SCRIPT.run(this.redis, this.keys(schedule), [
        seen ? seen.snapshot.version : -1,
        seen ? seen.commit : '-',
        withOutbox ? '1' : '0',
      ]),
      seen,
    );
    const result = await this.decodeReply(schedule, seen, reply);
    this.cache.afterRead(schedule, seen, result.known);
    return result;
  }

  private async decodeReply(schedule: string, seen: KnownSnapshot | undefined, reply: ReadReply): Promise<ReadResult> {
    const [kind, version, commit, outbox] = reply;
    switch (reply[0]) {
      case 'same':
        return { known: seen!, outbox };
      case 'legacy':
        try {
          return { known: { snapshot: decodeSnapshot(schedule, reply[4], version), commit, exact: false }, outbox };
        } catch (error) {
          if (!(error instanceof CorruptSnapshotError)) throw error;
          return { known: { snapshot: { ...emptySnapshot(schedule), version }, commit, exact: false }, outbox, corrupt: error };
        }
      case 'delta': {
        const [, , , , meta, ids, values, keys, alertValues] = reply;
        const base = seen!.snapshot;
        const tasks = { ...base.tasks };
        const alerts = { ...base.alerts };
        const problems: string[] = [];
        await this.decodeInto(tasks, ids, values, problems, null);
        decodeAlertsInto(alerts, keys, alertValues, problems, null);
        return this.assemble(schedule, version, commit, meta, tasks, alerts, problems, outbox);
      }
      case 'full': {
        const [, , , , meta, flatTasks, flatAlerts] = reply;
        const tasks: Record<string, TaskRecord> = {};
        const alerts: Record<string, ActiveAlert> = {};
        const problems: string[] = [];
        const ids: string[] = [];
        const values: string[] = [];
        for (let i = 0; i < flatTasks.length; i += 2) {
          ids.push(flatTasks[i]!);
          values.push(flatTasks[i + 1]!);
        }
        // A replica catching up keeps the objects of records that did not change (identity is what the metrics diff on).
        await this.decodeInto(tasks, ids, values, problems, seen?.snapshot.tasks ?? null);
        const alertKeys = flatAlerts.filter((_, i) => i % 2 === 0);
        const alertValues = flatAlerts.filter((_, i) => i % 2 === 1);
        decodeAlertsInto(alerts, alertKeys, alertValues, problems, seen?.snapshot.alerts ?? null);
        return this.assemble(schedule, version, commit, meta, tasks, alerts, problems, outbox);
      }
      default:
        throw new Error(`unexpected reply from the snapshot read script: ${String(kind)}`);
    }
  }

  private async decodeInto(
    tasks: Record<string, TaskRecord>,
    ids: readonly string[],
    values: readonly (string | null)[],
    problems: string[],
    previous: Record<string, TaskRecord> | null,
  ): Promise<void> {
    // Reading 100,000 records takes a while: in slices, so the event loop keeps answering meanwhile.
    const slicer = new Slicer();
    for (let i = 0; i < ids.length; i++) {
      if (i % 256 === 0) await slicer.maybeYield();
      const id = ids[i]!;
      const raw = values[i] ?? null;
      if (raw === null) {
        delete tasks[id];
        continue;
      }
      const record = decodeTaskRecord(raw, this.pool);
      if (typeof record === 'string') {
        delete tasks[id];
        problems.push(`task ${id}: ${record}`);
        continue;
      }
      const before = previous?.[id];
      tasks[id] = before && sameRecord(before, record) ? before : record;
    }
  }

  private assemble(
    schedule: string,
    version: number,
    commit: string,
    rawMeta: string,
    tasks: Record<string, TaskRecord>,
    alerts: Record<string, ActiveAlert>,
    problems: string[],
    outbox: Side,
  ): ReadResult {
    const meta = rawMeta === '' && version > 0 ? 'missing' : decodeMeta(schedule, rawMeta);
    if (typeof meta === 'string') {
      const corrupt = new CorruptSnapshotError(schedule, `schedule fields: ${meta}`);
      return { known: { snapshot: { ...emptySnapshot(schedule), version }, commit, exact: false }, outbox, corrupt };
    }
    const snapshot: Snapshot = { ...meta, schedule, version, tasks, alerts };
    if (problems.length === 0) return { known: { snapshot, commit, exact: commit !== '' }, outbox };
    const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
    const corrupt = new CorruptSnapshotError(
      schedule,
      `${problems.slice(0, 3).join('; ')}${more}`,
      'left out; they count as first seen on the next poll',
    );
    // What Redis holds differs from what we keep: the next commit rewrites the whole snapshot.
    return { known: { snapshot, commit, exact: false }, outbox, corrupt };
  }

  /**
   * Compare-and-set on `expectedVersion`; the batch (if any) is parked in the outbox atomically. Only the
   * tasks and alerts that differ (by object) from the snapshot this process knows at that version are sent.
   */
  async commit(
    next: Snapshot,
    expectedVersion: number,
    batch: NotificationBatch | null,
    cleanup: CommitCleanup = {},
  ): Promise<CommitResult> {
    const seen = this.cache.get(next.schedule);
    const base = seen?.exact && seen.snapshot.version === expectedVersion ? seen : null;
    const changes = changesBetween(base?.snapshot ?? null, next);
    const commitId = randomUUID();
    const args: (string | number)[] = [
      expectedVersion,
      expectedVersion + 1,
      commitId,
      base?.commit ?? '',
      encodeMeta(next),
      batch?.id ?? '',
      batch ? JSON.stringify(batch) : '',
      changes.taskWrites.length,
      changes.taskDeletes.length,
      changes.alertWrites.length,
      changes.alertDeletes.length,
    ];
    // What is kept in memory is the compact copy of each changed record (see string-pool.ts).
    const tasks = changes.taskWrites.length === 0 ? next.tasks : { ...next.tasks };
    const slicer = new Slicer();
    for (let i = 0; i < changes.taskWrites.length; i++) {
      if (i % 256 === 0) await slicer.maybeYield();
      const [id, record] = changes.taskWrites[i]!;
      const kept = compactRecord(record, this.pool);
      tasks[id] = kept;
      args.push(id, encodeTaskRecord(kept));
    }
    for (const id of changes.taskDeletes) args.push(id);
    for (const [key, alert] of changes.alertWrites) args.push(key, encodeAlert(alert));
    for (const key of changes.alertDeletes) args.push(key);
    const muted = cleanup.muted ?? [];
    args.push(muted.length);
    for (const [key, read] of muted) args.push(key, read);
    const endedAcks = cleanup.acks ?? [];
    args.push(Math.max(0, Math.ceil(cleanup.ackKeepMs ?? 0)));
    for (const episode of endedAcks) args.push(episode);
    const keys = [...this.keys(next.schedule), ...endedAcks.map((episode) => endedAckKey(this.prefix, next.schedule, episode))];
    const written: Snapshot = { ...next, version: expectedVersion + 1, tasks };
    const code = Number(await COMMIT_SCRIPT.run(this.redis, keys, args));
    if (code === -1) {
      this.cache.afterCommit(next.schedule, { snapshot: written, commit: commitId, exact: true });
      return { committed: true, snapshot: written };
    }
    if (code === -2) {
      // Same version, other contents (Redis restored from an older copy): read it afresh next time.
      this.cache.forget(next.schedule);
      return { committed: false, currentVersion: expectedVersion };
    }
    return { committed: false, currentVersion: code };
  }

  /** The notifier has the batch (idempotently): drop it from the outbox. */
  async acknowledge(schedule: string, batchIds: readonly string[]): Promise<void> {
    if (batchIds.length === 0) return;
    await this.redis.hdel(scheduleKeys(this.prefix, schedule).outbox, ...batchIds);
  }

  /** The per-schedule poll lock, on the same Redis connection and prefix. */
  pollLock(): PollLock {
    return new PollLock(this.redis, this.prefix);
  }
}

function decodeAlertsInto(
  alerts: Record<string, ActiveAlert>,
  keys: readonly string[],
  values: readonly (string | null)[],
  problems: string[],
  previous: Record<string, ActiveAlert> | null,
): void {
  keys.forEach((key, i) => {
    const raw = values[i] ?? null;
    if (raw === null) {
      delete alerts[key];
      return;
    }
    const alert = decodeAlert(raw);
    if (typeof alert === 'string') {
      delete alerts[key];
      problems.push(`alert ${key}: ${alert}`);
      return;
    }
    const before = previous?.[key];
    alerts[key] = before && sameAlert(before, alert) ? before : alert;
  });
}

/**
 * A batch is identified by its events: event ids are deterministic per episode and emitted once,
 * so the same detection (even re-done after a crash or a Redis wipe) always yields the same batch id.
 */
export function batchIdFor(schedule: string, eventIds: readonly string[]): string {
  const digest = createHash('sha256')
    .update([...eventIds].sort().join('\n'))
    .digest('hex')
    .slice(0, 20);
  return `${schedule}.${digest}`;
}
