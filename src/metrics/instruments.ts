/** What the adapters report to the metrics as it happens (the Instruments interface), and its label values. */
import type { EventKind, PollErrorKind } from '../core/model.ts';
import type { MailProblemCause } from '../notify/mail-problem.ts';

export const POLL_RESULTS = ['success', 'failure', 'conflict'] as const;
export type PollResult = (typeof POLL_RESULTS)[number];
export const NOTIFICATION_OUTCOMES = ['sent', 'retried', 'given_up', 'rejected'] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

/**
 * What the adapters report as it happens. The metrics module implements it with prom-client;
 * components take it as an optional dependency so they never import prom-client themselves.
 */
export interface Instruments {
  pollCompleted(schedule: string, result: PollResult, durationSeconds: number): void;
  superofficeCallError(kind: PollErrorKind): void;
  eventsDetected(schedule: string, kind: EventKind, count: number): void;
  notification(outcome: NotificationOutcome, count?: number): void;
  /** Mail delivery paused by a configuration problem of this cause (counted once per problem), or resumed (null). */
  mailDeliveryPaused(cause: MailProblemCause | null): void;
  /** Tasks a poll left out because one of their fields could not be read. */
  tasksUnreadable(schedule: string, count: number): void;
  /** An event not mailed because a silence or maintenance window matched (the mute stage). */
  notificationSilenced(schedule: string, kind: EventKind): void;
}

export const noopInstruments: Instruments = {
  pollCompleted() {},
  superofficeCallError() {},
  eventsDetected() {},
  notification() {},
  mailDeliveryPaused() {},
  tasksUnreadable() {},
  notificationSilenced() {},
};
