/** One poll of one schedule: load the snapshot, read the tasks, evaluate, commit, hand the batch to the notifier. */
import { evaluate } from '../core/evaluate.ts';
import type { MaintenanceWindow } from '../core/maintenance-windows.ts';
import type { AlertEvent, NotificationBatch, PollError, PollOutcome, Rules, Snapshot, UnreadableTask } from '../core/model.ts';
import type { Silence } from '../core/silences.ts';
import type { BatchTaskInfo } from '../core/task.ts';
import type { ScheduleConfig } from '../config/types.ts';
import type { Instruments, PollResult } from '../metrics/instruments.ts';
import type { Logger } from '../log.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import { forgetLastRegExpSubject } from '../runtime/regexp.ts';
import { batchIdFor, type SnapshotStore } from '../store/snapshot-store.ts';
import { scrubTasks } from './scrub-tasks.ts';
import { acknowledgements, settleMuted } from './settle-muted.ts';
import { processUnreadableTaskLog, type UnreadableTaskLog } from './unreadable-log.ts';

/** Where a poll gets its tasks; how (which SuperOffice calls) is the source's business. */
export interface TaskSource {
  /**
   * The tasks `schedule` watches, and those left out because a field could not be read.
   * Throws (a SuperOfficeError) when the poll failed as a whole.
   */
  tasksFor(schedule: ScheduleConfig): Promise<{ tasks: BatchTaskInfo[]; unreadable: UnreadableTask[] }>;
}

/** The tenant status service (superoffice.tenantStatusUrl), asked after a failed poll. */
export interface TenantStateSource {
  readonly contextIdentifier: string;
  /** Rejects when the state cannot be known. */
  current(): Promise<{ state: string; running: boolean }>;
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
  /** Remembers which unreadable tasks were logged already (default: one per process). */
  unreadableLog?: UnreadableTaskLog;
  /** When set, a failed poll asks the tenant's state: anything but Running makes it planned maintenance. */
  tenantStatus?: TenantStateSource;
  /**
   * The stored silences, read only when the schedule has muted alerts (a quiet poll reads nothing more). Absent:
   * muted alerts are kept as they are (never released by this poll).
   */
  silences?: () => Promise<readonly Silence[]>;
  /** Maintenance windows from the config. */
  windows?: readonly MaintenanceWindow[];
  /**
   * How long the acknowledgement of an ended episode is kept for the notifier (endedAckKeepMs(mail.retryFor));
   * default: for mail.retryFor 24h.
   */
  ackKeepMs?: number;
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

/** The error as it is stored in the snapshot (Redis) and mailed: scrubbed of every known secret. */
export function toPollError(error: unknown): PollError {
  if (error instanceof Error && 'kind' in error && typeof error.kind === 'string') {
    return { kind: error.kind as PollError['kind'], message: scrubSecrets(error.message) };
  }
  return { kind: 'internal', message: scrubSecrets(error instanceof Error ? error.message : String(error)) };
}

async function fetchOutcome(source: TaskSource, schedule: ScheduleConfig, deps: PollDeps): Promise<PollOutcome> {
  try {
    const answer = await source.tasksFor(schedule);
    // Where SuperOffice's text enters: everything downstream (snapshot, mail, metrics, API) starts from these.
    const tasks = await scrubTasks(answer.tasks);
    const unreadable = answer.unreadable.map((task) => ({ ...task, field: scrubSecrets(task.field), problem: scrubSecrets(task.problem) }));
    if (unreadable.length === 0) return { ok: true, tasks };
    deps.instruments.tasksUnreadable(schedule.name, unreadable.length);
    logUnreadable(schedule.name, (deps.unreadableLog ?? processUnreadableTaskLog).fresh(schedule.name, unreadable), deps.log);
    return { ok: true, tasks, unreadable };
  } catch (error) {
    const pollError = toPollError(error);
    const maintenance = deps.tenantStatus ? await maintenanceState(deps.tenantStatus, schedule.name, deps) : null;
    const fields = { schedule: schedule.name, errorKind: pollError.kind, err: pollError.message };
    if (maintenance) {
      // Said once when the maintenance starts and once when it ends (see logMaintenanceChange), not per poll.
      deps.log.debug({ ...fields, tenantState: maintenance.state }, 'SuperOffice poll failed during tenant maintenance');
      return { ok: false, error: pollError, maintenance };
    }
    deps.log.warn(fields, 'SuperOffice poll failed');
    return { ok: false, error: pollError };
  }
}

/** Tasks newly unreadable in one poll that get a log line each; the rest are one line with their count. */
export const UNREADABLE_LOGGED_PER_POLL = 20;

/**
 * Tasks this poll found unreadable that were not so before: a format change at 100k tasks must not write 100k
 * lines, so the first UNREADABLE_LOGGED_PER_POLL each, then one line with how many more (the counter has them all).
 */
function logUnreadable(schedule: string, fresh: readonly UnreadableTask[], log: Logger): void {
  for (const task of fresh.slice(0, UNREADABLE_LOGGED_PER_POLL)) {
    log.warn(
      { schedule, taskId: task.id, field: task.field, problem: task.problem },
      'a task is left out of the polls while this field cannot be read (its last known state is kept)',
    );
  }
  const more = fresh.length - UNREADABLE_LOGGED_PER_POLL;
  if (more > 0) {
    const fields = [...new Set(fresh.slice(UNREADABLE_LOGGED_PER_POLL).map((task) => task.field))].slice(0, 10);
    log.warn(
      { schedule, more, fields },
      `${more} more tasks are left out of the polls while a field cannot be read (not logged one by one; batchwatch_tasks_unreadable_total counts them)`,
    );
  }
}

/** The tenant's state when it is not Running; null when it is Running or cannot be known (then the failure is an outage). */
async function maintenanceState(status: TenantStateSource, schedule: string, deps: PollDeps): Promise<{ state: string } | null> {
  try {
    const { state, running } = await status.current();
    return running ? null : { state: scrubSecrets(state) };
  } catch (error) {
    deps.log.warn(
      { schedule, tenant: status.contextIdentifier, err: scrubSecrets(error instanceof Error ? error.message : String(error)) },
      'tenant status unknown (superoffice.tenantStatusUrl did not answer usably); this failed poll counts as an outage',
    );
    return null;
  }
}

/** One log line when a schedule's tenant enters maintenance, changes maintenance state, or leaves it. */
function logMaintenanceChange(schedule: string, before: Snapshot, after: Snapshot, outcome: PollOutcome, deps: PollDeps): void {
  const was = before.maintenance;
  const now = after.maintenance;
  const tenant = deps.tenantStatus?.contextIdentifier;
  if (!was && now) {
    deps.log.warn(
      { schedule, tenant, tenantState: now.state, err: outcome.ok ? undefined : outcome.error.message },
      'tenant in planned maintenance: failed polls are not counted as an outage (no superoffice-down) until it is Running again',
    );
  } else if (was && now && was.state !== now.state) {
    deps.log.info({ schedule, tenant, from: was.state, tenantState: now.state }, 'tenant maintenance state changed');
  } else if (was && !now) {
    const minutes = Math.round(((after.lastPollAt ?? was.since) - was.since) / 60_000);
    if (outcome.ok) deps.log.info({ schedule, tenant, was: was.state, minutes }, 'tenant maintenance over: SuperOffice answers again');
    else {
      deps.log.warn(
        { schedule, tenant, was: was.state, minutes, err: outcome.error.message },
        'tenant no longer reports maintenance (Running, or its state is unknown) but SuperOffice still fails: failed polls count towards superoffice-down again',
      );
    }
  }
}

/** Hands batches to the sink and drops them from the outbox. A failure leaves them for the next poll. */
export async function relayBatches(schedule: string, batches: NotificationBatch[], deps: PollDeps): Promise<void> {
  if (!deps.sink || batches.length === 0) return;
  for (const batch of batches) await deps.sink.enqueue(batch);
  await deps.store.acknowledge(
    schedule,
    batches.map((b) => b.id),
  );
}

/** Hand-over that a Redis blip must not turn into a failed poll: what is not handed over stays in the outbox. */
async function handOver(schedule: string, batches: NotificationBatch[], deps: PollDeps): Promise<void> {
  try {
    await relayBatches(schedule, batches, deps);
  } catch (error) {
    deps.log.warn(
      { schedule, batches: batches.map((b) => b.id), err: (error as Error).message },
      'notification hand-over failed; kept in the outbox for the next poll',
    );
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

/** Milliseconds spent in each phase of a poll, for the debug log (where a slow poll's time goes). */
class PhaseTimer {
  private last = performance.now();
  readonly ms: Record<string, number> = {};

  lap(phase: string): void {
    const now = performance.now();
    this.ms[phase] = Math.round(now - this.last);
    this.last = now;
  }
}

async function pollOnce(schedule: ScheduleConfig, deps: PollDeps, options: { dryRun?: boolean }, started: number): Promise<PollReport> {
  const clock = deps.now ?? Date.now;
  const phases = new PhaseTimer();
  const state = await deps.store.load(schedule.name);
  if (state.corrupt) deps.log.error({ schedule: schedule.name }, state.corrupt.message);
  if (state.unreadableBatches.length > 0) {
    deps.log.error(
      { schedule: schedule.name, batches: state.unreadableBatches },
      'unreadable notification batches removed from the outbox',
    );
  }
  if (!options.dryRun && state.pendingBatches.length > 0) {
    deps.log.info({ schedule: schedule.name, batches: state.pendingBatches.map((b) => b.id) }, 'relaying notifications left in the outbox');
    await handOver(schedule.name, state.pendingBatches, deps);
  }

  phases.lap('load');
  const outcome = await fetchOutcome(deps.source, schedule, deps);
  phases.lap('fetch');
  const prev = state.snapshot;
  const now = clock();
  const acks = acknowledgements(state.acks.entries);
  const evaluation = evaluate(prev, outcome, now, deps.rules, acks);
  phases.lap('evaluate');
  const { next, events, releases, cleanup } = await settleMuted(schedule.name, state, evaluation, acks, now, deps);
  phases.lap('silences');
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
    ? {
        id: batchIdFor(
          schedule.name,
          events.map((e) => e.id),
        ),
        schedule: schedule.name,
        createdAt: clock(),
        events,
      }
    : null;
  const commit = await deps.store.commit(next, prev.version, batch, cleanup);
  phases.lap('commit');
  if (!commit.committed) {
    deps.log.info(
      { schedule: schedule.name, expected: prev.version, found: commit.currentVersion },
      'another poll committed first; this one is discarded',
    );
    return report('conflict', prev, []);
  }
  logMaintenanceChange(schedule.name, prev, commit.snapshot, outcome, deps);
  // A release tells an alert detected earlier (its silence ended): not a new detection.
  for (const event of events) if (!event.release) deps.instruments.eventsDetected(schedule.name, event.kind, 1);
  if (releases.length > 0) {
    deps.log.info(
      { schedule: schedule.name, events: releases.map((e) => e.id) },
      'silence over while the alert still fires: releasing it to the notifier',
    );
  }
  if (batch) {
    deps.log.info({ schedule: schedule.name, batch: batch.id, events: events.map((e) => e.id) }, 'events detected');
    await handOver(schedule.name, [batch], deps);
    phases.lap('handOver');
  }
  deps.log.debug({ schedule: schedule.name, ms: phases.ms }, 'poll timings');
  return report(outcome.ok ? 'success' : 'failure', commit.snapshot, events);
}
