import assert from 'node:assert/strict';
import { evaluate } from '../../src/core/evaluate.ts';
import { emptySnapshot, type AlertEvent, type PollOutcome, type Rules, type Snapshot } from '../../src/core/model.ts';
import { MINUTE, T0 } from './tasks.ts';

/** One poll of a scripted sequence: `at` in minutes after T0, the expected events as short strings. */
export interface Step {
  at: number;
  poll: PollOutcome;
  expect: string[];
  /** Rules from this step on (a config reload); otherwise those of the run. */
  rules?: Rules;
}

/**
 * 'failed 7', 'stalled 7 (repeat)', 'resolved stalled 7', 'superoffice-down sales':
 * kind, the resolved kind for resolutions, subject, and whether it is a reminder.
 */
export function summarize(event: AlertEvent): string {
  const kind = event.kind === 'resolved' ? `resolved ${event.alertKind}` : event.kind;
  return `${kind} ${event.subject}${event.repeat ? ' (repeat)' : ''}`;
}

export interface Run {
  snapshots: Snapshot[];
  events: AlertEvent[][];
}

/** Runs the steps from an empty snapshot, bumping the version as the store would, and checks each step. */
export function runSteps(rules: Rules, steps: Step[], schedule = 'sales'): Run {
  let snapshot = emptySnapshot(schedule);
  const run: Run = { snapshots: [snapshot], events: [] };
  let current = rules;
  for (const [index, step] of steps.entries()) {
    current = step.rules ?? current;
    const { next, events } = evaluate(snapshot, step.poll, T0 + step.at * MINUTE, current);
    assert.deepEqual(events.map(summarize), step.expect, `step ${index} (t+${step.at}m)`);
    snapshot = { ...next, version: next.version + 1 };
    run.snapshots.push(snapshot);
    run.events.push(events);
  }
  return run;
}
