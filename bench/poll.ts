import type { Redis } from 'ioredis';
import type { ScheduleConfig, SuperOfficeConfig } from '../src/config/types.ts';
import type { NotificationBatch } from '../src/core/model.ts';
import { createLogger } from '../src/log.ts';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule, type BatchSink, type PollDeps, type TaskSource } from '../src/monitor/poll.ts';
import type { Simulator } from '../src/simulator/server.ts';
import { scheduleKeys } from '../src/store/keys.ts';
import type { SnapshotStore } from '../src/store/snapshot-store.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { benchRules, Fleet } from './fleet.ts';
import { delta, readCounters } from './redis-stats.ts';
import { summarize, type Summary } from './stats.ts';

export const BENCH_PREFIX = 'bench';
/** Every schedule watches the same associates, so the number of SOAP calls is the same whatever the task count. */
export const SCHEDULE_ASSOCIATES = 1000;

export interface PollEnv {
  simulator: Simulator;
  store: SnapshotStore;
  /** A separate connection for INFO and inspection, so its commands are not the poll's. */
  observer: Redis;
}

export interface PollBenchResult {
  schedule: string;
  tasks: number;
  polls: number;
  perPoll: Summary;
  /** The SuperOffice part of each poll (SOAP calls and parsing); the rest is Redis load/commit and evaluate. */
  soapMs: Summary;
  soapCallsPerPoll: number;
  /** Redis commands of polls that detected no event, and of polls that did (those add the outbox write and ack). */
  redisCommandsQuiet: Summary;
  redisCommandsWithEvents: Summary;
  /** Summed over all timed polls, per command name (commands inside EVAL and MULTI included). */
  byCommand: Map<string, number>;
  pollsWithEvents: number;
  snapshotBytes: number;
}

/** Takes the batches the way the notifier would, so the outbox is acknowledged as in the daemon. */
class CountingSink implements BatchSink {
  batches = 0;
  async enqueue(_batch: NotificationBatch): Promise<void> {
    this.batches += 1;
  }
}

export function superOfficeConfig(url: string): SuperOfficeConfig {
  return { url, username: 'demo', password: 'demo', timeout: 10_000, associatesPerRequest: 100, maxConcurrentRequests: 2, timeZone: 'UTC' };
}

export function benchSchedule(tasks: number): ScheduleConfig {
  return {
    name: `bench-${tasks}`,
    associates: Array.from({ length: SCHEDULE_ASSOCIATES }, (_, i) => i + 1),
    timing: { every: 60_000 },
  };
}

function loadTable(simulator: Simulator, fleet: Fleet): void {
  for (const task of simulator.tasks()) simulator.removeTask(task.id);
  for (const task of fleet.current()) simulator.upsertTask(task);
}

/**
 * Real polls end to end: SOAP over HTTP to the simulator, evaluate, compare-and-set commit to a real
 * redis-server. Between polls the task table moves (not timed). Redis commands are counted by the server.
 */
export async function benchPoll(env: PollEnv, tasks: number, opts: { polls: number; budgetMs: number }): Promise<PollBenchResult> {
  const schedule = benchSchedule(tasks);
  const fleet = new Fleet({ tasks, associates: Math.min(SCHEDULE_ASSOCIATES, Math.max(1, Math.ceil(tasks / 2))), now: Date.now(), seed: tasks });
  loadTable(env.simulator, fleet);
  const sink = new CountingSink();
  const client = createSuperOfficeClient(superOfficeConfig(env.simulator.url));
  let soapElapsed = 0;
  const source: TaskSource = {
    async tasksFor(schedule) {
      const started = performance.now();
      try {
        return await client.tasksFor(schedule);
      } finally {
        soapElapsed += performance.now() - started;
      }
    },
  };
  const deps: PollDeps = {
    source,
    store: env.store,
    sink,
    rules: benchRules,
    instruments: noopInstruments,
    log: createLogger('silent'),
  };

  // Warm-up: authentication, WSDL loading, first sight of every task.
  for (let i = 0; i < 2; i++) await pollSchedule(schedule, deps);

  const durations: number[] = [];
  const soapDurations: number[] = [];
  const quietCommands: number[] = [];
  const eventCommands: number[] = [];
  const byCommand = new Map<string, number>();
  let soapCalls = 0;
  let pollsWithEvents = 0;
  const deadline = performance.now() + opts.budgetMs;
  while (durations.length < opts.polls && performance.now() < deadline) {
    const step = fleet.step(Date.now());
    for (const id of step.removed) env.simulator.removeTask(id);
    for (const task of step.changed) env.simulator.upsertTask(task);

    const callsBefore = env.simulator.stats.calls;
    const before = await readCounters(env.observer);
    soapElapsed = 0;
    const started = performance.now();
    const report = await pollSchedule(schedule, deps);
    const elapsed = performance.now() - started;
    const after = await readCounters(env.observer);
    if (report.result !== 'success') throw new Error(`poll of ${schedule.name} ended in ${report.result}`);

    durations.push(elapsed);
    soapDurations.push(soapElapsed);
    soapCalls += env.simulator.stats.calls - callsBefore;
    const d = delta(before, after);
    if (report.events.length > 0) {
      pollsWithEvents += 1;
      eventCommands.push(d.total);
    } else {
      quietCommands.push(d.total);
    }
    for (const [name, calls] of d.byCommand) byCommand.set(name, (byCommand.get(name) ?? 0) + calls);
  }

  const snapshotBytes = await env.observer.hstrlen(scheduleKeys(BENCH_PREFIX, schedule.name).snapshot, 'data');
  return {
    schedule: schedule.name,
    tasks: fleet.size,
    polls: durations.length,
    perPoll: summarize(durations),
    soapMs: summarize(soapDurations),
    soapCallsPerPoll: soapCalls / durations.length,
    redisCommandsQuiet: summarize(quietCommands),
    redisCommandsWithEvents: summarize(eventCommands),
    byCommand,
    pollsWithEvents,
    snapshotBytes,
  };
}
