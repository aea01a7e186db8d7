/**
 * The notification path as named stages run in order (like Alertmanager's notify.MultiStage): each stage
 * takes the delivery so far and either passes it on (possibly with fewer events) or ends it with outcomes.
 */
import type { AlertEvent, NotificationBatch } from '../core/model.ts';
import type { MailDeliveryError } from './delivery-error.ts';
import type { MailProblem } from './mail-problem.ts';
import type { RenderedMessage } from './render.ts';
import type { SendResult } from './transport.ts';

/** One notification on its way: later stages fill in recipients, message and the server's answer. */
export interface Delivery {
  readonly jobId: string;
  /** 1-based attempt of this job. */
  readonly attempt: number;
  /** The events still to be told; stages that settle some events (already sent, silenced) pass on the rest. */
  readonly batch: NotificationBatch;
  /** Aborted when the notifier shuts down: a send in progress is then handed back to the queue. */
  readonly signal: AbortSignal;
  readonly to?: readonly string[];
  readonly message?: RenderedMessage;
  readonly sent?: SendResult;
}

/** Every way a notification (or some of its events) can end an attempt: the one list (history, API, docs). */
export const OUTCOME_STATUSES = ['sent', 'already_sent', 'silenced', 'acknowledged', 'retrying', 'paused', 'given_up', 'rejected'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

export type Outcome =
  /** The SMTP server accepted the mail; `recorded` says whether the notification log has it. */
  | {
      status: 'sent';
      events: AlertEvent[];
      to: readonly string[];
      subject: string;
      messageId: string;
      response: string;
      rejected: string[];
      recorded: boolean;
    }
  /** The notification log already has these events: not sent again. */
  | { status: 'already_sent'; events: AlertEvent[] }
  /** A silence, acknowledgement or maintenance window matched (the mute stage): recorded, not sent. */
  | { status: 'silenced'; events: AlertEvent[]; detail: string }
  /** Reminders (or releases) of an acknowledged episode (the mute stage): recorded, not sent, not counted as silenced. */
  | { status: 'acknowledged'; events: AlertEvent[]; detail: string }
  /** A temporary failure: the queue tries again in `retryInMs` (`handedBack`: the notifier is shutting down). */
  | { status: 'retrying'; events: AlertEvent[]; to: readonly string[]; error: MailDeliveryError; retryInMs: number; handedBack: boolean }
  /** A configuration problem: delivery pauses, the job waits in the queue until a re-check passes. */
  | { status: 'paused'; events: AlertEvent[]; to: readonly string[]; problem: MailProblem }
  /** Temporary failures lasted longer than mail.retryFor. */
  | { status: 'given_up'; events: AlertEvent[]; to: readonly string[]; error: MailDeliveryError }
  /** Refused for good (a 5xx answer, no recipients, a malformed job): not retried. */
  | { status: 'rejected'; events: AlertEvent[]; to?: readonly string[]; reason: string; error?: MailDeliveryError };

export type StageResult =
  /** Go on with `next`; `settled` are outcomes for events this stage took out of the batch. */
  | { next: Delivery; settled?: Outcome[] }
  /** The delivery ends here. */
  | { done: Outcome[] };

/** One step with one job. A thrown error fails the attempt (the queue retries it later). */
export interface Stage {
  readonly name: string;
  run(delivery: Delivery): Promise<StageResult>;
}

/** Runs the stages in order until one ends the delivery or no event is left; returns every outcome. */
export async function runStages(stages: readonly Stage[], start: Delivery): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let delivery = start;
  for (const stage of stages) {
    const result = await stage.run(delivery);
    if ('done' in result) return [...outcomes, ...result.done];
    outcomes.push(...(result.settled ?? []));
    delivery = result.next;
    if (delivery.batch.events.length === 0) return outcomes;
  }
  return outcomes;
}

/** `delivery` with only `events` left. */
export function withEvents(delivery: Delivery, events: AlertEvent[]): Delivery {
  return { ...delivery, batch: { ...delivery.batch, events } };
}

/** A value an earlier stage should have set; its absence is a wiring mistake in the stage list. */
export function required<T>(value: T | undefined, what: string, stage: string): T {
  if (value === undefined) throw new Error(`notifier stage ${stage} needs ${what}; check the order of the stages`);
  return value;
}
