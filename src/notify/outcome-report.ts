/** Tells the world how a notification ended: one log line, the outcome counter and a notification-history entry per outcome. */
import type { NotificationBatch } from '../core/model.ts';
import type { Instruments } from '../metrics/instruments.ts';
import { withTimeout } from '../metrics/timeout.ts';
import type { HistoryEntry, NotificationHistory } from './history.ts';
import type { Outcome } from './pipeline.ts';
import type { CallbackLevel } from '../log-levels.ts';

/** A history write waits at most this long (Redis down): the history is best effort, the job must go on. */
const HISTORY_WRITE_TIMEOUT_MS = 5000;

export type NotifyLog = (level: CallbackLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface OutcomeReportDeps {
  log: NotifyLog;
  instruments: Instruments;
  /** Null when there is no Redis connection for it (the outcome is still logged and counted). */
  history: NotificationHistory | null;
  now?: () => number;
}

/** The job the outcome belongs to; `batch` is the notification as queued (absent when the job could not be read). */
export interface OutcomeContext {
  jobId: string;
  attempt: number;
  batch?: NotificationBatch;
}

export function batchFields(batch: Pick<NotificationBatch, 'id' | 'schedule' | 'events'>): Record<string, unknown> {
  return { batch: batch.id, schedule: batch.schedule, events: batch.events.map((event) => event.id) };
}

/** Logs, counts and records one outcome. Never throws: a history that cannot be written is logged. */
export async function reportOutcome(deps: OutcomeReportDeps, context: OutcomeContext, outcome: Outcome): Promise<void> {
  const { log, instruments } = deps;
  const batch = context.batch;
  const fields = {
    ...(batch ? batchFields({ ...batch, events: outcome.events }) : { jobId: context.jobId }),
    attempt: context.attempt,
  };
  const entry: HistoryEntry = {
    at: (deps.now ?? Date.now)(),
    batchId: batch?.id ?? context.jobId,
    schedule: batch?.schedule ?? '',
    status: outcome.status,
    eventIds: outcome.events.map((event) => event.id),
  };

  switch (outcome.status) {
    case 'sent':
      instruments.notification('sent');
      log('info', 'notification sent', { ...fields, to: outcome.to, subject: outcome.subject, response: outcome.response });
      if (outcome.rejected.length > 0) {
        log('warn', 'notification sent, but the SMTP server rejected some recipients', { ...fields, rejected: outcome.rejected });
      }
      entry.subject = outcome.subject;
      entry.detail = outcome.rejected.length > 0 ? `${outcome.response} (rejected: ${outcome.rejected.join(', ')})` : outcome.response;
      break;
    case 'already_sent':
      if (batch && outcome.events.length < batch.events.length) {
        log('info', 'some events of this notification were already sent; mailing the rest', { ...fields, alreadySent: entry.eventIds });
      } else {
        log('info', 'notification already sent; not sending again', fields);
      }
      break;
    case 'silenced':
      log('info', 'notification silenced: recorded, not sent', { ...fields, detail: outcome.detail });
      for (const event of outcome.events) instruments.notificationSilenced(event.schedule, event.kind);
      entry.detail = outcome.detail;
      break;
    case 'acknowledged':
      log('info', 'reminder of an acknowledged alert: recorded, not sent', { ...fields, detail: outcome.detail });
      entry.detail = outcome.detail;
      break;
    case 'retrying': {
      const error = outcome.error;
      const errorFields = { ...fields, to: outcome.to, err: error.message, responseCode: error.responseCode, response: error.response };
      if (outcome.handedBack) {
        log('info', 'shutting down: in-flight notification handed back to the queue', errorFields);
        entry.detail = `handed back on shutdown: ${error.message}`;
      } else {
        instruments.notification('retried');
        log('warn', 'notification not delivered yet; will retry', { ...errorFields, retryInMs: outcome.retryInMs });
        entry.detail = error.message;
      }
      break;
    }
    case 'paused':
      // The pause itself is logged once by the delivery gate; this is per job.
      log('debug', 'notification held: mail delivery is paused', { ...fields, problem: outcome.problem.message });
      entry.detail = `${outcome.problem.cause}: ${outcome.problem.message}`;
      break;
    case 'given_up': {
      const error = outcome.error;
      instruments.notification('given_up');
      log('error', 'notification given up: not delivered within mail.retryFor', {
        ...fields,
        to: outcome.to,
        err: error.message,
        responseCode: error.responseCode,
        response: error.response,
      });
      entry.detail = error.message;
      break;
    }
    case 'rejected': {
      instruments.notification('rejected');
      const error = outcome.error;
      if (error) {
        log('error', 'notification rejected by the SMTP server; not retried', {
          ...fields,
          to: outcome.to,
          err: error.message,
          responseCode: error.responseCode,
          response: error.response,
          rejected: error.rejected,
        });
        entry.detail = error.message;
      } else {
        log('error', `notification dropped: ${outcome.reason}`, fields);
        entry.detail = outcome.reason;
      }
      break;
    }
  }

  if (!deps.history) return;
  try {
    await withTimeout(deps.history.append(entry), HISTORY_WRITE_TIMEOUT_MS, 'writing the notification history');
  } catch (error) {
    log('warn', 'could not write the notification history (the notification itself is not affected)', {
      ...fields,
      err: error instanceof Error ? error.message : String(error),
    });
  }
}
