/** Stage: takes out the events the notification log says were already mailed (a retried job, an event that came round again). */
import type { Stage } from '../pipeline.ts';
import { withEvents } from '../pipeline.ts';
import type { SentLog } from '../sent-log.ts';

export function dedupStage(sentLog: SentLog): Stage {
  return {
    name: 'dedup',
    async run(delivery) {
      const events = delivery.batch.events;
      const unsent = await sentLog.unsent(events);
      if (unsent.length === events.length) return { next: delivery };
      const told = events.filter((event) => !unsent.includes(event));
      return { next: withEvents(delivery, unsent), settled: [{ status: 'already_sent', events: told }] };
    },
  };
}
