import { evaluate } from '../core/evaluate.ts';
import type { AlertEvent, NotificationBatch, PollError, PollOutcome, Rules, Snapshot } from '../core/model.ts';
import type { BatchTaskInfo } from '../core/task.ts';
import type { ScheduleConfig } from '../config/types.ts';
import type { Instruments, PollResult } from '../metrics/instruments.ts';
import type { Logger } from '../log.ts';
import { forgetLastRegExpSubject } from '../runtime/regexp.ts';
import { batchIdFor, type SnapshotStore } from '../store/snapshot-store.ts';

export interface TaskSource {
  getBatchTaskInfosByAssociates(associateIds: readonly number[]): Promise<BatchTaskInfo[]>;
}

export interface BatchSink {
  enqueue(batch: NotificationBatch): Promise<void>;
}

export interface PollDeps {
  source: TaskSource;
  store: SnapshotStore;
  /** Where committed batches go; absent means nobody sends (they wait in the outbox). */
  sink?: BatchSink;
  rules: Rules;
  instruments: Instruments;
  log: Logger;
  now?: () => number;
}

export interface PollReport {
  schedule: string;
  result: PollResult;
  outcome: PollOutcome;
  /** Events this poll committed (dry run: would have committed). Empty on a conflict. */
  events: AlertEvent[];
  snapshot: Snapshot;
  durationMs: number;
}

export function toPollError(error: unknown): PollError {
  if (error instanceof Error && 'kind' in error && typeof error.kind === 'string') {
    return { kind: error.kind as PollError['kind'], message: error.message };
  }
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error) };
}

async function fetchOutcome(source: TaskSource, schedule: ScheduleConfig, deps: PollDeps): Promise<PollOutcome> {
  try {
    return { ok: true, tasks: await source.getBatchTaskInfosByAssociates(schedule.associates) };
  } catch (error) {
    const pollError = toPollError(error);
    deps.log.warn({ schedule: schedule.name, errorKind: pollError.kind, err: pollError.message }, 'SuperOffice poll failed');
    return { ok: false, error: pollError };
  }
}

/** Hands batches to the sink and drops them from the outbox. A failure leaves them for the next poll. */
export async function relayBatches(schedule: string, batches: NotificationBatch[], deps: PollDeps): Promise<void> {
  if (!deps.sink || batches.length === 0) return;
  for (const batch of batches) await deps.sink.enqueue(batch);
  await deps.store.acknowledge(schedule, batches.map((b) => b.id));
}

/** Hand-over that a Redis blip must not turn into a failed poll: what is not handed over stays in the outbox. */
async function handOver(schedule: string, batches: NotificationBatch[], deps: PollDeps): Promise<void> {
  try {
    await relayBatches(schedule, batches, deps);
  } catch (error) {
    deps.log.warn({ schedule, batches: batches.map((b) => b.id), err: (error as Error).message }, 'notification hand-over failed; kept in the outbox for the next poll');
  }
}

/**
 * One poll of one schedule: load (1 round trip), SOAP calls, pure evaluation, compare-and-set commit
 * of snapshot + outbox (1 round trip), hand-over to the notifier. With `dryRun` nothing is written.
 * Every poll is counted once, a poll that throws (the snapshot store failed) as a failure.
 */
export async function pollSchedule(schedule: ScheduleConfig, deps: PollDeps, options: { dryRun?: boolean } = {}): Promise<PollReport> {
  const started = performance.now();
  try {
    const report = await pollOnce(schedule, deps, options, started);
    deps.instruments.pollCompleted(schedule.name, report.result, report.durationMs / 1000);
    return report;
  } catch (error) {
    deps.instruments.pollCompleted(schedule.name, 'failure', (performance.now() - started) / 1000);
    throw error;
  } finally {
    // Reading and evaluating the answer leaves a slice of it as the last RegExp subject (task-name globs run
    // on parsed strings): drop it, or the whole answer stays in memory until the next poll.
    forgetLastRegExpSubject();
  }
}

async function pollOnce(schedule: ScheduleConfig, deps: PollDeps, options: { dryRun?: boolean }, started: number): Promise<PollReport> {
  const clock = deps.now ?? Date.now;
  const state = await deps.store.load(schedule.name);
  if (state.corrupt) deps.log.error({ schedule: schedule.name }, state.corrupt.message);
  if (state.unreadableBatches.length > 0) {
    deps.log.error({ schedule: schedule.name, batches: state.unreadableBatches }, 'unreadable notification batches removed from the outbox');
  }
  if (!options.dryRun && state.pendingBatches.length > 0) {
    deps.log.info({ schedule: schedule.name, batches: state.pendingBatches.map((b) => b.id) }, 'relaying notifications left in the outbox');
    await handOver(schedule.name, state.pendingBatches, deps);
  }

  const outcome = await fetchOutcome(deps.source, schedule, deps);
  const prev = state.snapshot;
  const { next, events } = evaluate(prev, outcome, clock(), deps.rules);
  const report = (result: PollResult, snapshot: Snapshot, committedEvents: AlertEvent[]): PollReport => ({
    schedule: schedule.name,
    result,
    outcome,
    events: committedEvents,
    snapshot,
    durationMs: performance.now() - started,
  });
  if (options.dryRun) return report(outcome.ok ? 'success' : 'failure', next, events);

  const batch: NotificationBatch | null = events.length
    ? { id: batchIdFor(schedule.name, events.map((e) => e.id)), schedule: schedule.name, createdAt: clock(), events }
    : null;
  const commit = await deps.store.commit(next, prev.version, batch);
  if (!commit.committed) {
    deps.log.info({ schedule: schedule.name, expected: prev.version, found: commit.currentVersion }, 'another poll committed first; this one is discarded');
    return report('conflict', prev, []);
  }
  for (const event of events) deps.instruments.eventsDetected(schedule.name, event.kind, 1);
  if (batch) {
    deps.log.info({ schedule: schedule.name, batch: batch.id, events: events.map((e) => e.id) }, 'events detected');
    await handOver(schedule.name, [batch], deps);
  }
  return report(outcome.ok ? 'success' : 'failure', commit.snapshot, events);
}
