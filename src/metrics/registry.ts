import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EVENT_KINDS, type PollErrorKind, type Snapshot } from '../core/model.ts';
import { SILENCE_STATES, type SilenceState } from '../core/silences.ts';
import { MAIL_PROBLEM_CAUSES } from '../notify/mail-problem.ts';
import { ComputedGauge, type Sample } from './computed-gauge.ts';
import type { Instruments, NotificationOutcome, PollResult } from './instruments.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { sharedRead } from './scrape-cache.ts';
import { snapshotSeries, type SnapshotSeries } from './snapshot-series.ts';

export interface MetricsDeps {
  /** Reads every schedule's snapshot from Redis (shared state, so all replicas report the same tasks). Throws when Redis is down. */
  readSnapshots: () => Promise<Snapshot[]>;
  /** Notification queue depth; throws when unavailable. */
  queueDepth?: () => Promise<number>;
  schedules: string[];
  now?: () => number;
  /** Default 1h: per-task series for finished tasks disappear after this long in that state. */
  finishedRetentionMs?: number;
  /** Default 2s: a scrape-time read (snapshots, queue depth) that takes longer is given up for that scrape. */
  scrapeTimeoutMs?: number;
  /** Default true: export the standard process_* metrics. */
  processMetrics?: boolean;
  /** Silences by state, as last read in the background (src/silence/silence-census.ts); null while unknown. */
  silenceCounts?: () => Record<SilenceState, number> | null;
}

export const DEFAULT_FINISHED_RETENTION_MS = 60 * 60 * 1000;
export const DEFAULT_SCRAPE_TIMEOUT_MS = 2000;
export const POLL_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export type ScrapePart = 'snapshots' | 'queue';

const POLL_RESULTS: readonly PollResult[] = ['success', 'failure', 'conflict'];
const POLL_ERROR_KINDS: readonly PollErrorKind[] = ['transport', 'soap-fault', 'superoffice', 'auth', 'malformed', 'internal'];
const NOTIFICATION_OUTCOMES: readonly NotificationOutcome[] = ['sent', 'retried', 'given_up', 'rejected'];
const SCRAPE_PARTS: readonly ScrapePart[] = ['snapshots', 'queue'];

const TASK_LABELS = ['associate_id', 'task_id', 'task_name'] as const;

export function createMetrics(deps: MetricsDeps): { registry: Registry; instruments: Instruments } {
  const registry = new Registry();
  const now = deps.now ?? Date.now;
  const finishedRetentionMs = deps.finishedRetentionMs ?? DEFAULT_FINISHED_RETENTION_MS;
  const timeoutMs = deps.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS;
  const register = <M extends Parameters<Registry['registerMetric']>[0]>(metric: M): M => {
    registry.registerMetric(metric);
    return metric;
  };

  const scrapeErrors = new Counter({
    name: 'batchwatch_scrape_errors_total',
    help: 'Scrape-time reads that failed or timed out; the affected series are left out of that scrape.',
    labelNames: ['part'],
    registers: [],
    // Waits for this scrape's reads, so a failure is counted in the same scrape that lacks the series.
    collect: async () => {
      await Promise.all([readSeries(), readQueueDepth?.()]);
    },
  });
  for (const part of SCRAPE_PARTS) scrapeErrors.inc({ part }, 0);

  const readSeries = sharedRead(
    async (): Promise<SnapshotSeries> =>
      snapshotSeries(await deps.readSnapshots(), { schedules: deps.schedules, now: now(), finishedRetentionMs }),
    { timeoutMs, what: 'reading snapshots', onError: () => scrapeErrors.inc({ part: 'snapshots' }) },
  );
  const queueDepth = deps.queueDepth;
  const readQueueDepth = queueDepth
    ? sharedRead(queueDepth, { timeoutMs, what: 'reading queue depth', onError: () => scrapeErrors.inc({ part: 'queue' }) })
    : null;

  const fromSnapshots =
    <L extends string>(pick: (series: SnapshotSeries) => Sample<L>[]) =>
    async (): Promise<Sample<L>[]> => {
      const result = await readSeries();
      return result.ok ? pick(result.value) : [];
    };
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    pick: (series: SnapshotSeries) => Sample<L>[],
  ) => register(new ComputedGauge({ name, help, labelNames }, fromSnapshots(pick)));

  gauge('superoffice_batch_task_state', 'Batch task state: 1 for the current State, 0 for the other known states.', [...TASK_LABELS, 'state'], (s) => s.taskState);
  gauge('superoffice_batch_task_progress_ratio', 'Batch task ProgressPercent / 100.', TASK_LABELS, (s) => s.taskProgressRatio);
  gauge('superoffice_batch_task_stalled', '1 while a stalled alert is firing for the task, else 0.', TASK_LABELS, (s) => s.taskStalled);
  gauge('superoffice_batch_task_last_started_timestamp_seconds', 'Batch task LastStarted as unix time.', TASK_LABELS, (s) => s.taskLastStarted);
  gauge('superoffice_batch_task_starts', 'Batch task StartCount as reported by SuperOffice.', TASK_LABELS, (s) => s.taskStarts);
  gauge('superoffice_batch_task_progress_changed_timestamp_seconds', 'Unix time the task progress last moved (or the task entered a running state).', TASK_LABELS, (s) => s.taskProgressChanged);
  gauge('superoffice_batch_task_state_changed_timestamp_seconds', 'Unix time the task entered its current State (or was first seen).', TASK_LABELS, (s) => s.taskStateChanged);
  gauge('superoffice_batch_tasks', 'Batch tasks SuperOffice currently returns, per associate and State.', ['associate_id', 'state'], (s) => s.tasks);
  gauge('batchwatch_superoffice_up', '1 if the last poll of the schedule succeeded, else 0.', ['schedule'], (s) => s.up);
  gauge('batchwatch_superoffice_maintenance', '1 while the tenant reports planned maintenance (failed polls are then not an outage), else 0.', ['schedule'], (s) => s.maintenance);
  gauge('batchwatch_last_successful_poll_timestamp_seconds', 'Unix time of the last successful poll of the schedule.', ['schedule'], (s) => s.lastSuccessfulPoll);
  gauge('batchwatch_last_poll_timestamp_seconds', 'Unix time of the last poll of the schedule, successful or not.', ['schedule'], (s) => s.lastPoll);
  gauge('batchwatch_consecutive_poll_failures', 'Failed polls of the schedule since its last successful one (polls during tenant maintenance are not counted).', ['schedule'], (s) => s.consecutiveFailures);
  gauge('batchwatch_active_alerts', 'Alerts currently firing, per schedule and kind.', ['schedule', 'kind'], (s) => s.activeAlerts);

  const silenceCounts = deps.silenceCounts;
  if (silenceCounts) {
    register(
      new ComputedGauge({ name: 'batchwatch_silences', help: 'Silences known, by state (active, pending, expired; expired ones are kept a week).', labelNames: ['state'] }, async () => {
        const counts = silenceCounts();
        return counts ? SILENCE_STATES.map((state) => ({ labels: { state }, value: counts[state] })) : [];
      }),
    );
  }

  if (readQueueDepth) {
    register(
      new ComputedGauge({ name: 'batchwatch_notification_queue_depth', help: 'Notifications waiting to be sent or retried.', labelNames: [] }, async () => {
        const result = await readQueueDepth();
        return result.ok ? [{ labels: {}, value: result.value }] : [];
      }),
    );
  }

  const pollDuration = register(
    new Histogram({
      name: 'batchwatch_poll_duration_seconds',
      help: 'Duration of one poll of a schedule, SuperOffice calls and snapshot update included.',
      labelNames: ['schedule'],
      buckets: POLL_DURATION_BUCKETS,
      registers: [],
    }),
  );
  const polls = register(
    new Counter({ name: 'batchwatch_polls_total', help: 'Polls by schedule and result (conflict: another poll wrote the snapshot first).', labelNames: ['schedule', 'result'], registers: [] }),
  );
  const callErrors = register(
    new Counter({ name: 'batchwatch_superoffice_call_errors_total', help: 'Failed SuperOffice calls by error kind.', labelNames: ['kind'], registers: [] }),
  );
  const events = register(
    new Counter({ name: 'batchwatch_events_detected_total', help: 'Events detected by schedule and kind.', labelNames: ['schedule', 'kind'], registers: [] }),
  );
  const notifications = register(
    new Counter({ name: 'batchwatch_notifications_total', help: 'Notification deliveries by outcome.', labelNames: ['outcome'], registers: [] }),
  );
  const silenced = register(
    new Counter({
      name: 'batchwatch_notifications_silenced_total',
      help: 'Events not mailed because a silence or maintenance window matched, by schedule and event kind.',
      labelNames: ['schedule', 'kind'],
      registers: [],
    }),
  );
  const unreadableTasks = register(
    new Counter({
      name: 'batchwatch_tasks_unreadable_total',
      help: 'Tasks left out of a poll because one of their fields could not be read (counted per poll).',
      labelNames: ['schedule'],
      registers: [],
    }),
  );

  const mailProblems = register(
    new Counter({
      name: 'batchwatch_mail_configuration_errors_total',
      help: 'Times mail delivery was paused by a configuration problem (certificate, login, TLS mode, SMTP URL), by cause.',
      labelNames: ['cause'],
      registers: [],
    }),
  );
  const mailPaused = register(
    new Gauge({
      name: 'batchwatch_mail_delivery_paused',
      help: '1 while mail delivery is paused by a configuration problem (notifications wait in the queue), else 0.',
      registers: [],
    }),
  );
  mailPaused.set(0);

  // Initialise every known label combination so rate() and absence checks work from the first scrape.
  for (const schedule of deps.schedules) {
    pollDuration.zero({ schedule });
    for (const result of POLL_RESULTS) polls.inc({ schedule, result }, 0);
    for (const kind of EVENT_KINDS) events.inc({ schedule, kind }, 0);
    for (const kind of EVENT_KINDS) silenced.inc({ schedule, kind }, 0);
    unreadableTasks.inc({ schedule }, 0);
  }
  for (const kind of POLL_ERROR_KINDS) callErrors.inc({ kind }, 0);
  for (const outcome of NOTIFICATION_OUTCOMES) notifications.inc({ outcome }, 0);
  for (const cause of MAIL_PROBLEM_CAUSES) mailProblems.inc({ cause }, 0);

  register(scrapeErrors);

  if (deps.processMetrics ?? true) registerProcessMetrics(registry);

  const instruments: Instruments = {
    pollCompleted(schedule, result, durationSeconds) {
      polls.inc({ schedule, result });
      pollDuration.observe({ schedule }, durationSeconds);
    },
    superofficeCallError(kind) {
      callErrors.inc({ kind });
    },
    eventsDetected(schedule, kind, count) {
      if (count > 0) events.inc({ schedule, kind }, count);
    },
    notification(outcome, count = 1) {
      if (count > 0) notifications.inc({ outcome }, count);
    },
    mailDeliveryPaused(cause) {
      if (cause !== null) mailProblems.inc({ cause });
      mailPaused.set(cause === null ? 0 : 1);
    },
    tasksUnreadable(schedule, count) {
      if (count > 0) unreadableTasks.inc({ schedule }, count);
    },
    notificationSilenced(schedule, kind) {
      silenced.inc({ schedule, kind });
    },
  };
  return { registry, instruments };
}
