import { evaluate } from '../src/core/evaluate.ts';
import { emptySnapshot, type Snapshot } from '../src/core/model.ts';
import { benchRules, Fleet } from './fleet.ts';
import { retainedHeap } from './gc.ts';
import { summarize, type Summary } from './stats.ts';

const POLL_INTERVAL_MS = 60_000;
const T0 = Date.UTC(2025, 0, 6, 10, 0, 0);

export interface CoreResult {
  tasks: number;
  firstPollMs: number;
  polls: number;
  perPoll: Summary;
  pollsPerSecond: number;
  changedPerPoll: number;
  eventsPerPoll: number;
  heapBefore: number;
  heapGrowth: number;
  snapshotTasks: number;
  snapshotAlerts: number;
}

/**
 * evaluate() alone, on a table that changes between polls like a busy installation: the first poll
 * (every task new), a warm-up until alerts have settled, then up to `polls` timed polls. Building the
 * poll outcome is not timed; heap is measured after full GCs around the timed polls.
 */
export function benchEvaluate(tasks: number, opts: { warmup: number; polls: number; budgetMs: number }): CoreResult {
  const fleet = new Fleet({ tasks, associates: Math.max(1, Math.ceil(tasks / 2)), now: T0 });
  let now = T0;
  let snapshot: Snapshot = emptySnapshot('bench');
  const poll = () => {
    const outcome = { ok: true as const, tasks: fleet.current() };
    const started = performance.now();
    const { next, events } = evaluate(snapshot, outcome, now, benchRules);
    const elapsed = performance.now() - started;
    snapshot = { ...next, version: next.version + 1 };
    return { elapsed, events: events.length };
  };

  const firstPollMs = poll().elapsed;
  for (let i = 0; i < opts.warmup; i++) {
    now += POLL_INTERVAL_MS;
    fleet.step(now);
    poll();
  }

  const heapBefore = retainedHeap();
  const durations: number[] = [];
  let changed = 0;
  let events = 0;
  const deadline = performance.now() + opts.budgetMs;
  while (durations.length < opts.polls && performance.now() < deadline) {
    now += POLL_INTERVAL_MS;
    changed += fleet.step(now).changed.length;
    const result = poll();
    durations.push(result.elapsed);
    events += result.events;
  }
  const heapGrowth = retainedHeap() - heapBefore;
  const perPoll = summarize(durations);
  return {
    tasks,
    firstPollMs,
    polls: durations.length,
    perPoll,
    pollsPerSecond: 1000 / perPoll.mean,
    changedPerPoll: changed / durations.length,
    eventsPerPoll: events / durations.length,
    heapBefore,
    heapGrowth,
    snapshotTasks: Object.keys(snapshot.tasks).length,
    snapshotAlerts: Object.keys(snapshot.alerts).length,
  };
}
