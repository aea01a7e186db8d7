import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { z } from 'zod';
import type { NotificationBatch } from '../core/model.ts';
import type { MailConfig, RedisTarget } from '../config/types.ts';
import { createRedisClient, type RedisClient } from '../redis/connections.ts';
import { noopInstruments, type Instruments } from '../metrics/instruments.ts';
import { NOTIFY_QUEUE } from '../store/keys.ts';
import { renderBatch } from './render.ts';
import { SENT_LOG_EXTRA_TTL_MS, SentLog, type SentRecord } from './sent-log.ts';
import { createMailTransport, MailDeliveryError, toDeliveryError, type MailTransport, type SendResult } from './transport.ts';

export type NotifyLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface Notifier {
  /** Idempotent on batch.id: the same batch enqueued twice is one job, one mail. */
  enqueue(batch: NotificationBatch): Promise<void>;
  /** Starts the worker that sends queued mail. */
  start(): Promise<void>;
  /** Stops taking jobs; finishes the one in flight or hands it back (after closeGraceMs); closes connections. */
  close(): Promise<void>;
  /** Waiting + delayed + active notifications. */
  depth(): Promise<number>;
}

export interface NotifierDeps {
  /** The Redis target (`{ url }` for one node); the notifier opens its own connections to it. */
  connection: RedisTarget;
  prefix: string;
  mail: MailConfig;
  recipientsFor: (schedule: string) => string[];
  hostname: string;
  /** Domain of Message-IDs and thread roots; the same on every replica so threads survive restarts. */
  idDomain?: string;
  instruments?: Instruments;
  log?: NotifyLog;
  /** Default: a pooled SMTP transport for mail.smtp. */
  transport?: MailTransport;
  /** How long close() lets an in-flight send finish before aborting it (it is then retried later). Default 5s. */
  closeGraceMs?: number;
}

const JOB_NAME = 'notify';
const BACKOFF_TYPE = 'batchwatch-exponential';
/** Each retry waits at most this long, however long the outage already lasted. */
export const MAX_RETRY_DELAY_MS = 3_600_000;
const DAY_MS = 24 * 3_600_000;
/** Attempts to record a sent mail (backing off from 400 ms) before logging the failure and moving on. */
const RECORD_ATTEMPTS = 5;

/** BullMQ custom job ids must not contain ':'; encodeURIComponent is injective and encodes it. */
export function jobIdFor(batchId: string): string {
  return `batch-${encodeURIComponent(batchId)}`;
}

/** retryDelay doubling per failed attempt, capped at MAX_RETRY_DELAY_MS and at the time left before giving up. */
export function retryDelayMs(failedAttempts: number, retryDelay: number, remainingMs: number): number {
  const exponential = retryDelay * 2 ** Math.max(0, Math.min(failedAttempts - 1, 30));
  return Math.max(1, Math.floor(Math.min(exponential, MAX_RETRY_DELAY_MS, remainingMs)));
}

const batchSchema = z
  .object({
    id: z.string().min(1),
    schedule: z.string().min(1),
    createdAt: z.number(),
    events: z.array(z.object({ id: z.string(), kind: z.string(), subject: z.string() }).loose()),
  })
  .loose();

function parseBatch(data: unknown): NotificationBatch {
  const parsed = batchSchema.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`malformed notification job: ${parsed.error.message}`);
  return parsed.data as unknown as NotificationBatch;
}

function eventFields(batch: NotificationBatch): Record<string, unknown> {
  return { batch: batch.id, schedule: batch.schedule, events: batch.events.map((event) => event.id) };
}

export function createNotifier(deps: NotifierDeps): Notifier {
  const log: NotifyLog = deps.log ?? (() => {});
  if (!deps.mail.enabled) return disabledNotifier(log);

  const instruments = deps.instruments ?? noopInstruments;
  const { mail, prefix } = deps;
  // Shared by the queue and the worker (BullMQ opens the worker's blocking connection as a copy of it).
  const connection = createRedisClient(deps.connection, 'queue');
  const keepSeconds = Math.ceil((mail.retryFor + DAY_MS) / 1000);
  const closeGraceMs = deps.closeGraceMs ?? 5_000;
  const queue = new Queue<NotificationBatch>(NOTIFY_QUEUE, {
    connection,
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

  let worker: Worker<NotificationBatch> | null = null;
  let redis: RedisClient | null = null;
  let transport: MailTransport | null = deps.transport ?? null;
  const ownsTransport = !deps.transport;
  let inFlight: AbortController | null = null;
  let closing: Promise<void> | null = null;

  const deliver = async (job: Job<NotificationBatch>, sentLog: SentLog, smtp: MailTransport): Promise<SendResult | { alreadySent: true }> => {
    const parsed = parseBatch(job.data);
    const unsent = await sentLog.unsent(parsed.events);
    if (unsent.length === 0) {
      log('info', 'notification already sent; not sending again', eventFields(parsed));
      return { alreadySent: true };
    }
    if (unsent.length < parsed.events.length) {
      const told = parsed.events.filter((e) => !unsent.includes(e)).map((e) => e.id);
      log('info', 'some events of this notification were already sent; mailing the rest', { ...eventFields(parsed), alreadySent: told });
    }
    const batch: NotificationBatch = { ...parsed, events: unsent };
    const to = deps.recipientsFor(batch.schedule);
    if (to.length === 0) {
      instruments.notification('rejected');
      log('error', 'notification has no recipients (mailTo and mail.to are empty); dropped', eventFields(batch));
      throw new UnrecoverableError('no recipients');
    }
    const message = renderBatch(batch, { hostname: deps.hostname, ...(deps.idDomain ? { idDomain: deps.idDomain } : {}) });
    const abort = new AbortController();
    inFlight = abort;
    let result: SendResult;
    try {
      result = await smtp.send(message, { from: mail.from, to }, abort.signal);
    } catch (error) {
      throw onSendFailure(job, batch, toDeliveryError(error, 'smtp'), to, abort.signal.aborted);
    } finally {
      inFlight = null;
    }
    // From here on the mail is out: never fail the job (a retry would send it again).
    await recordSent(sentLog, batch, { sentAt: Date.now(), response: result.response, messageId: message.messageId });
    instruments.notification('sent');
    log('info', 'notification sent', { ...eventFields(batch), to, subject: message.subject, response: result.response, attempt: job.attemptsMade + 1 });
    if (result.rejected.length > 0) {
      log('warn', 'notification sent, but the SMTP server rejected some recipients', { ...eventFields(batch), rejected: result.rejected });
    }
    return result;
  };

  const recordSent = async (sentLog: SentLog, batch: NotificationBatch, record: SentRecord): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await sentLog.record(batch.events, record);
        return;
      } catch (error) {
        if (attempt >= RECORD_ATTEMPTS || closing) {
          log('error', 'notification sent, but recording it in the notification log failed; a later duplicate of these events could be mailed again', {
            ...eventFields(batch),
            err: error instanceof Error ? error.message : String(error),
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  };

  const onSendFailure = (job: Job<NotificationBatch>, batch: NotificationBatch, error: MailDeliveryError, to: string[], aborted: boolean): Error => {
    const fields = { ...eventFields(batch), to, err: error.message, responseCode: error.responseCode, response: error.response, attempt: job.attemptsMade + 1 };
    if (error.permanent) {
      instruments.notification('rejected');
      log('error', 'notification rejected by the SMTP server; not retried', { ...fields, rejected: error.rejected });
      return new UnrecoverableError(error.message);
    }
    const remaining = batch.createdAt + mail.retryFor - Date.now();
    if (remaining <= 0) {
      instruments.notification('given_up');
      log('error', `notification given up: not delivered within mail.retryFor`, fields);
      return new UnrecoverableError(error.message);
    }
    if (aborted) {
      log('info', 'shutting down: in-flight notification handed back to the queue', fields);
    } else {
      instruments.notification('retried');
      log('warn', 'notification not delivered yet; will retry', { ...fields, retryInMs: retryDelayMs(job.attemptsMade + 1, mail.retryDelay, remaining) });
    }
    return error;
  };

  return {
    async enqueue(batch) {
      await queue.add(JOB_NAME, batch, { jobId: jobIdFor(batch.id) });
      log('debug', 'notification queued', eventFields(batch));
    },

    async start() {
      if (worker || closing) return;
      const smtp = transport ?? createMailTransport(mail.smtp);
      transport = smtp;
      redis = createRedisClient(deps.connection, 'notification-log');
      redis.on('error', (error: Error) => log('warn', 'notification log connection error', { err: error.message }));
      const sentLog = new SentLog(redis, prefix, mail.retryFor + SENT_LOG_EXTRA_TTL_MS);
      smtp.verify().then(
        () => log('info', 'SMTP server reachable'),
        (error: unknown) => {
          if (!closing) log('warn', 'SMTP server not reachable now; notifications wait in the queue', { err: error instanceof Error ? error.message : String(error) });
        },
      );
      worker = new Worker<NotificationBatch>(NOTIFY_QUEUE, (job) => deliver(job, sentLog, smtp), {
        connection,
        prefix,
        concurrency: 1,
        // A crash mid-send leaves the job active; it must come back, not fail, however often that happens.
        maxStalledCount: 100,
        settings: {
          backoffStrategy: (attemptsMade, _type, _err, job) => {
            const createdAt = typeof job?.data?.createdAt === 'number' ? job.data.createdAt : Date.now();
            return retryDelayMs(attemptsMade, mail.retryDelay, createdAt + mail.retryFor - Date.now());
          },
        },
      });
      worker.on('error', (error) => log('warn', 'notification worker error', { err: error.message }));
      // Delivery failures are logged where they happen; this catches the rest (Redis errors mid-job,
      // a job stalled too often, a malformed job) so no failure goes unexplained.
      worker.on('failed', (job, error) => {
        if (error instanceof MailDeliveryError || error instanceof UnrecoverableError) return;
        log('warn', 'notification job failed; it is retried', { jobId: job?.id, err: error.message });
      });
    },

    close() {
      closing ??= (async () => {
        if (worker) {
          const grace = setTimeout(() => inFlight?.abort(), closeGraceMs);
          try {
            await worker.close();
          } finally {
            clearTimeout(grace);
          }
        }
        await queue.close();
        connection.disconnect();
        if (ownsTransport) transport?.close();
        if (redis) await redis.quit().catch(() => redis?.disconnect());
      })();
      return closing;
    },

    async depth() {
      return queue.getJobCountByTypes('waiting', 'prioritized', 'delayed', 'active');
    },
  };
}

/** mail.enabled: false — metrics only: nothing is queued and no SMTP connection is made. */
function disabledNotifier(log: NotifyLog): Notifier {
  return {
    async enqueue(batch) {
      log('debug', 'mail disabled; notification not sent', eventFields(batch));
    },
    async start() {
      log('info', 'mail.enabled is false: notifications are off (metrics only)');
    },
    async close() {},
    async depth() {
      return 0;
    },
  };
}
