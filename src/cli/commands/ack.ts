/** `batchwatch ack`: someone is on it — no reminders for the task's active alerts until they resolve. */
import { parseCommandArgs } from '../args.ts';
import { defaultAuthor, withControls } from '../silence-session.ts';

export async function ackCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, {
    config: { type: 'string' },
    'task-id': { type: 'string' },
    schedule: { type: 'string' },
    comment: { type: 'string' },
    author: { type: 'string' },
  });
  const request = Object.fromEntries(
    Object.entries({ taskId: values['task-id'], schedule: values.schedule, comment: values.comment, author: values.author }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const acked = await withControls(values.config, (controls) => controls.acknowledge(request, defaultAuthor()));
  for (const ack of acked)
    process.stdout.write(`acknowledged ${ack.kind} alert of task ${values['task-id']} in schedule ${ack.schedule} (${ack.episode})\n`);
  return 0;
}
