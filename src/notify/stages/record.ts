/** Stage: writes the sent events to the notification log. The mail is out: this never fails the job (a retry would send it again). */
import type { Stage } from '../pipeline.ts';
import { required } from '../pipeline.ts';
import type { SentLog } from '../sent-log.ts';

export interface RecordStageDeps {
  sentLog: SentLog;
  /** Attempts to write the log (backing off from 400 ms) before giving up on it. */
  attempts?: number;
  /** True once the notifier is closing: no more waiting between attempts. */
  stopping: () => boolean;
  /** Called once when the log cannot be written (the events could then be mailed twice). */
  onRecordFailed: (error: unknown) => void;
  now?: () => number;
}

const DEFAULT_RECORD_ATTEMPTS = 5;

export function recordStage(deps: RecordStageDeps): Stage {
  const attempts = deps.attempts ?? DEFAULT_RECORD_ATTEMPTS;
  const now = deps.now ?? Date.now;
  return {
    name: 'record',
    async run(delivery) {
      const sent = required(delivery.sent, 'the server answer', 'record');
      const message = required(delivery.message, 'the rendered message', 'record');
      const events = delivery.batch.events;
      let recorded = false;
      for (let attempt = 1; !recorded; attempt++) {
        try {
          await deps.sentLog.record(events, { sentAt: now(), response: sent.response, messageId: message.messageId });
          recorded = true;
        } catch (error) {
          if (attempt >= attempts || deps.stopping()) {
            deps.onRecordFailed(error);
            break;
          }
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        }
      }
      return {
        done: [
          {
            status: 'sent',
            events,
            to: required(delivery.to, 'recipients', 'record'),
            subject: message.subject,
            messageId: message.messageId,
            response: sent.response,
            rejected: sent.rejected,
            recorded,
          },
        ],
      };
    },
  };
}
