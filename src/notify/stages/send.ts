/** Stage: hands the mail to the SMTP server and decides what a failure means: retry, give up, reject, or pause for a configuration problem. */
import type { Outcome, Stage } from '../pipeline.ts';
import { required } from '../pipeline.ts';
import { nextRetry, type RetryPolicy } from '../retry-policy.ts';
import { toDeliveryError, type MailTransport } from '../transport.ts';

export interface SendStageDeps {
  transport: MailTransport;
  from: string;
  retry: RetryPolicy;
  now?: () => number;
}

export function sendStage(deps: SendStageDeps): Stage {
  const now = deps.now ?? Date.now;
  return {
    name: 'send',
    async run(delivery) {
      const to = required(delivery.to, 'recipients', 'send');
      const message = required(delivery.message, 'a rendered message', 'send');
      const events = delivery.batch.events;
      try {
        const sent = await deps.transport.send(message, { from: deps.from, to: [...to] }, delivery.signal);
        return { next: { ...delivery, sent } };
      } catch (thrown) {
        const error = toDeliveryError(thrown, 'smtp');
        let outcome: Outcome;
        if (error.kind === 'configuration' && error.problem) {
          outcome = { status: 'paused', events, to, problem: error.problem };
        } else if (error.kind === 'rejected') {
          outcome = { status: 'rejected', events, to, reason: 'rejected by the SMTP server', error };
        } else {
          const next = nextRetry(deps.retry, delivery.batch.createdAt, delivery.attempt, now());
          outcome =
            next === 'give-up'
              ? { status: 'given_up', events, to, error }
              : { status: 'retrying', events, to, error, retryInMs: next.retryInMs, handedBack: delivery.signal.aborted };
        }
        return { done: [outcome] };
      }
    },
  };
}
