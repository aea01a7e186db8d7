/**
 * The notifier: notifications wait in a BullMQ queue in Redis; one worker runs each through the named
 * stages, composed in one place (pipelineStages), and turns their outcome into the job's fate.
 */
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../redis/connections.ts';
import type { NotificationBatch } from '../core/model.ts';
import type { MailConfig } from '../config/types.ts';
import { noopInstruments, type Instruments } from '../metrics/instruments.ts';
import { withTimeout } from '../metrics/timeout.ts';
import { scrubbedError } from '../redact/secrets.ts';
import { NOTIFY_QUEUE } from '../store/keys.ts';
import { MailDeliveryError, toDeliveryError } from './delivery-error.ts';
import { DEFAULT_RECHECK_MS, DeliveryGate } from './delivery-gate.ts';
import { NotificationHistory } from './history.ts';
import { batchFields, reportOutcome, type NotifyLog, type OutcomeContext, type OutcomeReportDeps } from './outcome-report.ts';
import { runStages, type Outcome, type Stage } from './pipeline.ts';
import { retryDelayMs } from './retry-policy.ts';
import { SENT_LOG_EXTRA_TTL_MS, SentLog } from './sent-log.ts';
import { dedupStage } from './stages/dedup.ts';
import { parseJob } from './stages/parse.ts';
import { recordStage } from './stages/record.ts';
import { renderStage } from './stages/render.ts';
import { routeStage, type RecipientsFor } from './stages/route.ts';
import { sendStage } from './stages/send.ts';
import { createMailTransport, type MailTransport } from './transport.ts';

export type { NotifyLog } from './outcome-report.ts';
export { MAX_RETRY_DELAY_MS, retryDelayMs } from './retry-policy.ts';

export interface Notifier {
  /** Idempotent on batch.id: the same batch enqueued twice is one job, one mail. */
  enqueue(batch: NotificationBatch): Promise<void>;
  /** Starts the worker that sends queued mail. Never throws for mail configuration problems: see problem(). */
  start(): Promise<void>;
  /** Stops taking jobs; finishes the one in flight or hands it back (after closeGraceMs); closes connections. */
  close(): Promise<void>;
  /** Waiting + delayed + active notifications. */
  depth(): Promise<number>;
  /** Why mail cannot be delivered now (a configuration problem, or a notifier that could not start); undefined while it can. */
  problem(): string | undefined;
}

/** What a notifier connection is for: BullMQ's queue and worker, or the notification log and history. */
export type NotifierConnectionRole = 'queue' | 'worker' | 'notification-log';

export interface NotifierDeps {
  /**
   * Opens a Redis connection for the notifier (BullMQ needs maxRetriesPerRequest: null). Called for the
   * queue, the worker and the notification log; the notifier closes what it opened.
   */
  connect: (role: NotifierConnectionRole) => RedisClient;
  prefix: string;
  mail: MailConfig;
  recipientsFor: RecipientsFor;
  hostname: string;
  /** Domain of Message-IDs and thread roots; the same on every replica so threads survive restarts. */
  idDomain?: string;
  instruments?: Instruments;
  log?: NotifyLog;
  /** Default: a pooled SMTP transport for mail.smtp. */
  transport?: MailTransport;
  /** How long close() lets an in-flight send finish before aborting it (it is then retried later). Default 5s. */
  closeGraceMs?: number;
  /** While delivery is paused by a configuration problem, the SMTP server is checked again this often. Default 60s. */
  recheckMs?: number;
  /** SMTP_USERNAME / SMTP_PASSWORD are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** For the OAuth2 token endpoint (default: global fetch). */
  fetch?: typeof fetch;
  /**
   * The mute stage: silences, acknowledgements, maintenance windows (src/notify/stages/mute.ts). Runs after
   * dedup and before routing; events it settles as silenced or acknowledged are recorded in the history, not
   * sent. Either the stage, or a function making it with the notifier's notification-log connection.
   */
  mute?: Stage | ((log: NotificationLogAccess) => Stage);
}

/** What a stage built by the notifier may use: its notification-log connection and the log on it. */
export interface NotificationLogAccess {
  redis: RedisClient;
  sentLog: SentLog;
}

const JOB_NAME = 'notify';
const BACKOFF_TYPE = 'batchwatch-exponential';
const DAY_MS = 24 * 3_600_000;
const QUIT_TIMEOUT_MS = 1000;

/** BullMQ custom job ids must not contain ':'; encodeURIComponent is injective and encodes it. */
export function jobIdFor(batchId: string): string {
  return `batch-${encodeURIComponent(batchId)}`;
}

interface Running {
  worker: Worker<NotificationBatch>;
  workerRedis: RedisClient;
  logRedis: RedisClient;
  transport: MailTransport;
  gate: DeliveryGate;
}

export function createNotifier(deps: NotifierDeps): Notifier {
  const log: NotifyLog = deps.log ?? (() => {});
  if (!deps.mail.enabled) return disabledNotifier(log);

  const instruments = deps.instruments ?? noopInstruments;
  const { mail, prefix } = deps;
  const keepSeconds = Math.ceil((mail.retryFor + DAY_MS) / 1000);
  const closeGraceMs = deps.closeGraceMs ?? 5_000;
  /** A connection for BullMQ; its errors are reported by the queue and worker, this only keeps ioredis from printing them. */
  const connect = (role: NotifierConnectionRole): RedisClient => {
    const redis = deps.connect(role);
    redis.on('error', (error: Error) => log('debug', 'notifier Redis connection error', { role, err: error.message }));
    return redis;
  };
  const queueRedis = connect('queue');
  const queue = new Queue<NotificationBatch>(NOTIFY_QUEUE, {
    connection: queueRedis,
    prefix,
    defaultJobOptions: {
      // Retries end by time (retryFor), not by count.
      attempts: 1_000_000,
      backoff: { type: BACKOFF_TYPE, delay: mail.retryDelay },
      removeOnComplete: { age: keepSeconds },
      removeOnFail: { age: keepSeconds },
    },
  });
  queue.on('error', (error) => log('warn', 'notification queue connection error', { err: error.message }));

  let running: Running | null = null;
  let startProblem: string | undefined;
  const inFlight = new Set<AbortController>();
  let closing: Promise<void> | null = null;

  /** The notification path, in order. The one place the stages are composed. */
  const pipelineStages = (transport: MailTransport, sentLog: SentLog, logRedis: RedisClient): Stage[] => [
    dedupStage(sentLog),
    // Mute after dedup: an event already mailed (a retried job, a batch handed over twice) is settled as sent
    // and never re-labelled silenced; and what the mute stage settles is in the log, so dedup drops it next
    // time. (Alertmanager mutes before its dedup, but its dedup compares whole alert groups, not event ids.)
    ...(deps.mute ? [typeof deps.mute === 'function' ? deps.mute({ redis: logRedis, sentLog }) : deps.mute] : []),
    routeStage(deps.recipientsFor),
    renderStage({ hostname: deps.hostname, ...(deps.idDomain ? { idDomain: deps.idDomain } : {}) }),
    sendStage({ transport, from: mail.from, retry: mail }),
    recordStage({
      sentLog,
      stopping: () => closing !== null,
      onRecordFailed: (error) =>
        log(
          'error',
          'notification sent, but recording it in the notification log failed; a later duplicate of these events could be mailed again',
          {
            err: error instanceof Error ? error.message : String(error),
          },
        ),
    }),
  ];

  /** Runs one job through the stages, reports every outcome, and tells BullMQ what became of the job. */
  const processJob = async (
    job: Job<NotificationBatch>,
    token: string | undefined,
    stages: Stage[],
    gate: DeliveryGate,
    report: OutcomeReportDeps,
  ): Promise<string> => {
    const context: OutcomeContext = { jobId: job.id ?? '?', attempt: job.attemptsMade + 1 };
    const parsed = parseJob(job.data);
    if (!parsed.ok) {
      await reportOutcome(report, context, { status: 'rejected', events: [], reason: parsed.reason });
      throw new UnrecoverableError(parsed.reason);
    }
    const abort = new AbortController();
    inFlight.add(abort);
    let outcomes: Outcome[];
    try {
      outcomes = await runStages(stages, { jobId: context.jobId, attempt: context.attempt, batch: parsed.batch, signal: abort.signal });
    } finally {
      inFlight.delete(abort);
    }
    for (const outcome of outcomes) await reportOutcome(report, { ...context, batch: parsed.batch }, outcome);
    return settleJob(job, token, outcomes, gate);
  };

  const settleJob = async (
    job: Job<NotificationBatch>,
    token: string | undefined,
    outcomes: Outcome[],
    gate: DeliveryGate,
  ): Promise<string> => {
    for (const outcome of outcomes) {
      switch (outcome.status) {
        case 'paused':
          // Back to the queue without using up an attempt; the worker takes jobs again once a re-check passes.
          await gate.pause(outcome.problem);
          await job.moveToWait(token);
          throw new WaitingError();
        case 'retrying':
          throw outcome.error;
        case 'given_up':
          throw new UnrecoverableError(outcome.error.message);
        case 'rejected':
          throw new UnrecoverableError(outcome.error?.message ?? outcome.reason);
        default:
      }
    }
    return outcomes.map((outcome) => outcome.status).join(',');
  };

  const start = async (): Promise<void> => {
    if (running || closing || startProblem !== undefined) return;
    let transport: MailTransport;
    try {
      transport =
        deps.transport ??
        createMailTransport(mail, { ...(deps.env ? { env: deps.env } : {}), ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    } catch (error) {
      const failure = toDeliveryError(error, 'mail.smtp');
      startProblem = `notifier cannot start: ${failure.problem?.message ?? failure.message}`;
      if (failure.problem) instruments.mailDeliveryPaused(failure.problem.cause);
      log('error', 'mail notifier cannot start; notifications stay queued until the configuration is fixed and batchwatch restarted', {
        err: failure.message,
      });
      return;
    }
    if (transport.summary.insecure) {
      log(
        'warn',
        'mail.smtp has tlsRejectUnauthorized=false: the SMTP server certificate is NOT verified, so the login and the mail can be intercepted; trust a private CA with mail.tls.ca instead',
        {
          smtp: transport.summary.where,
        },
      );
    }
    const logRedis = deps.connect('notification-log');
    logRedis.on('error', (error: Error) => log('warn', 'notification log connection error', { err: error.message }));
    const sentLog = new SentLog(logRedis, prefix, mail.retryFor + SENT_LOG_EXTRA_TTL_MS);
    const report: OutcomeReportDeps = { log, instruments, history: new NotificationHistory(logRedis, prefix) };
    const stages = pipelineStages(transport, sentLog, logRedis);
    const workerRedis = connect('worker');
    // A failed job's reason and stack trace are stored in Redis by BullMQ: scrubbed first.
    const processor = (job: Job<NotificationBatch>, token?: string) =>
      processJob(job, token, stages, gate, report).catch((error: unknown) => Promise.reject(scrubbedError(error)));
    const worker = new Worker<NotificationBatch>(NOTIFY_QUEUE, processor, {
      connection: workerRedis,
      prefix,
      concurrency: 1,
      // Started below, once the gate it hands paused jobs to exists.
      autorun: false,
      // A crash mid-send leaves the job active; it must come back, not fail, however often that happens.
      maxStalledCount: 100,
      settings: {
        backoffStrategy: (attemptsMade, _type, _err, job) => {
          const createdAt = typeof job?.data?.createdAt === 'number' ? job.data.createdAt : Date.now();
          return retryDelayMs(attemptsMade, mail.retryDelay, createdAt + mail.retryFor - Date.now());
        },
      },
    });
    const gate = new DeliveryGate({
      verify: () => transport.verify(),
      // doNotWaitActive: the job that found the problem is the active one; it is moved back to wait by settleJob.
      onPause: () => worker.pause(true),
      onResume: async () => worker.resume(),
      log,
      instruments,
      recheckMs: deps.recheckMs ?? DEFAULT_RECHECK_MS,
    });
    worker.on('error', (error) => log('warn', 'notification worker error', { err: error.message }));
    // Outcomes are logged where they happen; this catches the rest (Redis errors mid-job, a job stalled
    // too often) so no failure goes unexplained.
    worker.on('failed', (job, error) => {
      if (error instanceof MailDeliveryError || error instanceof UnrecoverableError) return;
      log('warn', 'notification job failed; it is retried', { jobId: job?.id, err: error.message });
    });
    running = { worker, workerRedis, logRedis, transport, gate };
    worker
      .run()
      .catch((error: unknown) =>
        log('error', 'notification worker stopped', { err: error instanceof Error ? error.message : String(error) }),
      );
    void gate.check();
  };

  return {
    async enqueue(batch) {
      await queue.add(JOB_NAME, batch, { jobId: jobIdFor(batch.id) });
      log('debug', 'notification queued', batchFields(batch));
    },

    start,

    close() {
      closing ??= (async () => {
        const current = running;
        if (current) {
          current.gate.close();
          const grace = setTimeout(() => {
            for (const abort of inFlight) abort.abort();
          }, closeGraceMs);
          try {
            await current.worker.close();
          } finally {
            clearTimeout(grace);
          }
        }
        await queue.close();
        if (current && !deps.transport) current.transport.close();
        await Promise.all(
          [queueRedis, current?.workerRedis, current?.logRedis].map((redis) => (redis ? quitOrDisconnect(redis) : undefined)),
        );
      })();
      return closing;
    },

    async depth() {
      return queue.getJobCountByTypes('waiting', 'prioritized', 'delayed', 'active');
    },

    problem() {
      return startProblem ?? running?.gate.problem?.message;
    },
  };
}

/** quit() waits for a reply a down Redis never gives: then just drop the connection. */
async function quitOrDisconnect(redis: RedisClient): Promise<void> {
  try {
    await withTimeout(redis.quit(), QUIT_TIMEOUT_MS, 'closing a notifier Redis connection');
  } catch {
    redis.disconnect();
  }
}

/** mail.enabled: false — metrics only: nothing is queued and no SMTP connection is made. */
function disabledNotifier(log: NotifyLog): Notifier {
  return {
    async enqueue(batch) {
      log('debug', 'mail disabled; notification not sent', batchFields(batch));
    },
    async start() {
      log('info', 'mail.enabled is false: notifications are off (metrics only)');
    },
    async close() {},
    async depth() {
      return 0;
    },
    problem() {
      return undefined;
    },
  };
}
