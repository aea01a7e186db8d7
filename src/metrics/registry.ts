/**
 * The metrics of one process: prom-client counters and histograms for what the adapters report
 * (Instruments), and the snapshot-derived families rendered by batchwatch itself from its in-process
 * copy of the snapshots, piece by piece, so a scrape of 100,000 tasks neither waits for Redis nor
 * blocks the event loop.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EVENT_KINDS, POLL_ERROR_KINDS } from '../core/model.ts';
import { SILENCE_STATES, type SilenceState } from '../core/silences.ts';
import { MAIL_PROBLEM_CAUSES } from '../notify/mail-problem.ts';
import { ComputedGauge } from './computed-gauge.ts';
import { EXPOSITION_CONTENT_TYPE } from './exposition.ts';
import { NOTIFICATION_OUTCOMES, POLL_RESULTS, type Instruments } from './instruments.ts';
import { DEFAULT_MAX_EXPORTED_TASKS } from './limits.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { sharedRead } from './scrape-cache.ts';
import { snapshotPieces } from './snapshot-exposition.ts';
import type { SnapshotView } from './snapshot-view.ts';
import { TaskIndex, type IndexLog } from './task-index.ts';

export interface MetricsDeps {
  /** The snapshots this process knows: its own commits and the background refresh (see snapshot-view.ts). */
  snapshots: SnapshotView;
  /** Notification queue depth; throws when unavailable. */
  queueDepth?: () => Promise<number>;
  schedules: string[];
  now?: () => number;
  /** Default 1h: per-task series for finished tasks disappear after this long in that state. */
  finishedRetentionMs?: number;
  /** Default DEFAULT_MAX_EXPORTED_TASKS: at most this many tasks get per-task series. */
  maxExportedTasks?: number;
  /** Default 2s: a scrape-time read (queue depth) that takes longer is given up for that scrape. */
  scrapeTimeoutMs?: number;
  /** Default true: export the standard process_* metrics. */
  processMetrics?: boolean;
  log?: IndexLog;
  /** Default 0: how long a new snapshot of many tasks waits before the per-task series are rebuilt (TaskIndexOptions.startDelayMs). */
  indexDelayMs?: number;
  /** Silences by state, as last read in the background (src/silence/silence-census.ts); null while unknown. */
  silenceCounts?: () => Record<SilenceState, number> | null;
}

export interface Metrics {
  instruments: Instruments;
  contentType: string;
  /** The whole exposition, piece by piece (for streaming). */
  pieces(): AsyncIterable<string>;
  /** The whole exposition as one string (tests, CLI). */
  text(): Promise<string>;
  /** Resolves once snapshots handed over so far are reflected in the series. */
  settled(): Promise<void>;
  close(): void;
}

export const DEFAULT_FINISHED_RETENTION_MS = 60 * 60 * 1000;
export const DEFAULT_SCRAPE_TIMEOUT_MS = 2000;
export const POLL_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const SCRAPE_PARTS = ['snapshots', 'queue'] as const;

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS;
  const register = <M extends Parameters<Registry['registerMetric']>[0]>(metric: M): M => {
    registry.registerMetric(metric);
    return metric;
  };

  const index = new TaskIndex({
    schedules: deps.schedules,
    finishedRetentionMs: deps.finishedRetentionMs ?? DEFAULT_FINISHED_RETENTION_MS,
    maxExportedTasks: deps.maxExportedTasks ?? DEFAULT_MAX_EXPORTED_TASKS,
    now,
    capKey: 'metrics.maxExportedTasks',
    ...(deps.indexDelayMs ? { startDelayMs: deps.indexDelayMs } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  for (const schedule of deps.schedules) {
    const known = deps.snapshots.get(schedule);
    if (known) index.update(schedule, known);
  }
  const unsubscribe = deps.snapshots.subscribe((schedule, snapshot) => index.update(schedule, snapshot));

  const queueDepth = deps.queueDepth;
  const readQueueDepth = queueDepth
    ? sharedRead(queueDepth, { timeoutMs, what: 'reading queue depth', onError: () => scrapeErrors.inc({ part: 'queue' }) })
    : null;
  const scrapeErrors = register(
    new Counter({
      name: 'batchwatch_scrape_errors_total',
      help: 'Parts of a scrape that could not be collected (snapshots: Redis unreadable, so the snapshot series are left out).',
      labelNames: ['part'],
      registers: [],
      // Waits for this scrape's queue read, so a failure is counted in the same scrape that lacks the series.
      collect: async () => {
        await readQueueDepth?.();
      },
    }),
  );
  for (const part of SCRAPE_PARTS) scrapeErrors.inc({ part }, 0);
  const silenceCounts = deps.silenceCounts;
  if (silenceCounts) {
    register(
      new ComputedGauge(
        {
          name: 'batchwatch_silences',
          help: 'Silences known, by state (active, pending, expired; expired ones are kept a week).',
          labelNames: ['state'],
        },
        async () => {
          const counts = silenceCounts();
          return counts ? SILENCE_STATES.map((state) => ({ labels: { state }, value: counts[state] })) : [];
        },
      ),
    );
  }
  if (readQueueDepth) {
    register(
      new ComputedGauge(
        { name: 'batchwatch_notification_queue_depth', help: 'Notifications waiting to be sent or retried.', labelNames: [] },
        async () => {
          const result = await readQueueDepth();
          return result.ok ? [{ labels: {}, value: result.value }] : [];
        },
      ),
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
    new Counter({
      name: 'batchwatch_polls_total',
      help: 'Polls by schedule and result (conflict: another poll wrote the snapshot first).',
      labelNames: ['schedule', 'result'],
      registers: [],
    }),
  );
  const callErrors = register(
    new Counter({
      name: 'batchwatch_superoffice_call_errors_total',
      help: 'Failed SuperOffice calls by error kind.',
      labelNames: ['kind'],
      registers: [],
    }),
  );
  const events = register(
    new Counter({
      name: 'batchwatch_events_detected_total',
      help: 'Events detected by schedule and kind.',
      labelNames: ['schedule', 'kind'],
      registers: [],
    }),
  );
  const notifications = register(
    new Counter({
      name: 'batchwatch_notifications_total',
      help: 'Notification deliveries by outcome.',
      labelNames: ['outcome'],
      registers: [],
    }),
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

  async function* pieces(): AsyncGenerator<string> {
    const current = deps.snapshots.current();
    // Counted before the registry is rendered, so the scrape that lacks the series also shows the error.
    if (!current) scrapeErrors.inc({ part: 'snapshots' });
    yield await registry.metrics();
    yield* snapshotPieces({ view: deps.snapshots, index, schedules: deps.schedules, now: now(), current });
  }

  return {
    instruments,
    contentType: EXPOSITION_CONTENT_TYPE,
    pieces,
    async text() {
      let text = '';
      for await (const piece of pieces()) text += piece;
      return text;
    },
    settled: () => index.settled(),
    close() {
      unsubscribe();
      index.stop();
    },
  };
}
