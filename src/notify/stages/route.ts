/** Stage: who gets the mail — the schedule's mailTo, else mail.to; nobody is a rejection, not a retry. */
import type { ScheduleConfig } from '../../config/types.ts';
import type { Stage } from '../pipeline.ts';

export type RecipientsFor = (schedule: string) => readonly string[];

/** The routing the config describes: a schedule's mailTo, else the default recipients. */
export function recipientsFromConfig(
  schedules: readonly Pick<ScheduleConfig, 'name' | 'mailTo'>[],
  defaultTo: readonly string[],
): RecipientsFor {
  return (schedule) => schedules.find((s) => s.name === schedule)?.mailTo ?? defaultTo;
}

export function routeStage(recipientsFor: RecipientsFor): Stage {
  return {
    name: 'route',
    async run(delivery) {
      const to = recipientsFor(delivery.batch.schedule);
      if (to.length === 0) {
        return { done: [{ status: 'rejected', events: delivery.batch.events, reason: 'no recipients (mailTo and mail.to are empty)' }] };
      }
      return { next: { ...delivery, to } };
    },
  };
}
