/**
 * A whole poll (HTTP -> parse -> evaluate -> Redis commit) against node-soap's parse alone on the very
 * same bytes, interleaved, plus what Redis sees per poll. The answer comes ready-made from the simulator
 * child, so the poll's time and CPU are batchwatch's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import soap from 'soap';
import type { ScheduleConfig } from '../src/config/types.ts';
import type { NotificationBatch } from '../src/core/model.ts';
import { createLogger } from '../src/log.ts';
import { noopInstruments } from '../src/metrics/instruments.ts';
import { pollSchedule, type PollDeps } from '../src/monitor/poll.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { readBatchAnswer } from '../src/superoffice/batch-response.ts';
import { createSuperOfficeClient, DEFAULT_BATCH_WSDL } from '../src/superoffice/client.ts';
import { benchRules } from './fleet.ts';
import { retainedHeap } from './gc.ts';
import { startCountingProxy, trafficDelta, type TrafficCounters } from './redis-proxy.ts';
import type { SimulatorChild } from './sim-protocol.ts';
import { summarize, type Summary } from './stats.ts';

export const POLL_ASSOCIATES = 100;

export interface WholePollEnv {
  sim: SimulatorChild;
  redisPort: number;
  observer: Redis;
  dir: string;
}

export interface Timing {
  wallMs: number;
  cpuMs: number;
}

export interface WholePollResult {
  tasks: number;
  /** SOAP calls per poll: one answer is capped at 64 MiB by the client, so 100,000 tasks come in two. */
  requestsPerPoll: number;
  answerBytes: number;
  poll: { wall: Summary; cpu: Summary };
  nodeSoap: { wall: Summary; cpu: Summary };
  /** batchwatch's response parser alone (the streaming reader, fed in socket-sized pieces) on the same bytes. */
  parser: { wall: Summary; cpu: Summary };
  changedPerPoll: number;
  /** Redis traffic of the timed (busy) polls, per poll. */
  busy: { bytes: Summary; roundTrips: Summary };
  /** Polls where SuperOffice returned exactly what it did last time. */
  quiet: { sent: Summary; received: Summary; roundTrips: Summary; commands: Summary; redisCpuMs: Summary };
  redisCpuMsBusy: Summary;
  /** Heap the in-process snapshot copy holds (full GC with it, minus without it), per tracked task. */
  retainedBytesPerTask: number;
}

class DiscardingSink {
  async enqueue(_batch: NotificationBatch): Promise<void> {}
}

function timed<T>(fn: () => T): { value: T; timing: Timing } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { value, timing: { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 } };
}

function sum(timings: Timing[]): Timing {
  return timings.reduce((a, b) => ({ wallMs: a.wallMs + b.wallMs, cpuMs: a.cpuMs + b.cpuMs }), { wallMs: 0, cpuMs: 0 });
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T; timing: Timing }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, timing: { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 } };
}

async function redisServerStats(observer: Redis): Promise<{ cpuMs: number; commands: number }> {
  const info = await observer.info('cpu', 'stats');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return { cpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000, commands: field('total_commands_processed') };
}

export async function benchWholePoll(
  env: WholePollEnv,
  tasks: number,
  opts: { polls: number; quietPolls: number; requestsPerPoll: number },
): Promise<WholePollResult> {
  const perRequest = Math.ceil(POLL_ASSOCIATES / opts.requestsPerPoll);
  const { url } = await env.sim.request(
    { type: 'load', tasks, associates: POLL_ASSOCIATES, perRequest, seed: tasks, now: Date.now() },
    'loaded',
  );
  const proxy = await startCountingProxy(env.redisPort);
  const redis = new Redis(proxy.url);
  const soapClient = await soap.createClientAsync(DEFAULT_BATCH_WSDL);
  try {
    const store = new SnapshotStore(redis, `bench-poll-${tasks}`);
    const schedule: ScheduleConfig = {
      name: 'tenant',
      associates: Array.from({ length: POLL_ASSOCIATES }, (_, i) => i + 1),
      timing: { every: 60_000 },
    };
    const client = createSuperOfficeClient({
      url,
      username: 'demo',
      password: 'demo',
      timeout: 600_000,
      associatesPerRequest: perRequest,
      maxConcurrentRequests: 2,
      timeZone: 'UTC',
    });
    const deps: PollDeps = {
      source: client,
      store,
      sink: new DiscardingSink(),
      rules: benchRules,
      instruments: noopInstruments,
      log: createLogger('silent'),
    };
    const poll = async () => {
      const report = await pollSchedule(schedule, deps);
      if (report.result !== 'success') throw new Error(`bench poll ended in ${report.result}`);
    };
    // Warm-up: login, WSDL, first sight of every task (the whole snapshot is written once).
    await poll();
    await env.sim.request({ type: 'step', now: Date.now() }, 'stepped');
    await poll();

    const answerFile = join(env.dir, `answer-${tasks}.xml`);
    const polls: Timing[] = [];
    const baselines: Timing[] = [];
    const parsers: Timing[] = [];
    const busyBytes: number[] = [];
    const busyTrips: number[] = [];
    const busyRedisCpu: number[] = [];
    let changed = 0;
    let answerBytes = 0;
    for (let i = 0; i < opts.polls; i++) {
      changed += (await env.sim.request({ type: 'step', now: Date.now() }, 'stepped')).changed;
      const measurePoll = async () => {
        const before = proxy.counters();
        const redisBefore = await redisServerStats(env.observer);
        polls.push((await timedAsync(poll)).timing);
        const traffic = trafficDelta(before, proxy.counters());
        busyBytes.push(traffic.sent + traffic.received);
        busyTrips.push(traffic.roundTrips);
        busyRedisCpu.push((await redisServerStats(env.observer)).cpuMs - redisBefore.cpuMs);
      };
      // The same bytes the poll receives, parsed by node-soap alone and by batchwatch's parser alone.
      const measureBaselines = async () => {
        const dumped = await env.sim.request({ type: 'dump', path: answerFile }, 'dumped');
        answerBytes = dumped.bytes;
        const answers = dumped.files.map((file) => readFileSync(file, 'utf8'));
        baselines.push(sum(answers.map((xml) => timed(() => soapClient.wsdl.xmlToObject(xml)).timing)));
        parsers.push(
          sum(answers.map((xml) => timed(() => readBatchAnswer(xml, 'GetBatchTaskInfosByAssociatesResponse', 'UTC').tasks.length).timing)),
        );
      };
      // Interleaved, alternating which goes first, so drifting machine load hits both alike. (The answer is
      // rendered when the table steps, so the baselines can parse it before the poll asks for it.)
      if (i % 2 === 0) {
        await measurePoll();
        await measureBaselines();
      } else {
        await measureBaselines();
        await measurePoll();
      }
    }

    const quietSent: number[] = [];
    const quietReceived: number[] = [];
    const quietTrips: number[] = [];
    const quietCommands: number[] = [];
    const quietCpu: number[] = [];
    for (let i = 0; i < opts.quietPolls; i++) {
      const before: TrafficCounters = proxy.counters();
      const stats = await redisServerStats(env.observer);
      await poll();
      const after = await redisServerStats(env.observer);
      const traffic = trafficDelta(before, proxy.counters());
      quietSent.push(traffic.sent);
      quietReceived.push(traffic.received);
      quietTrips.push(traffic.roundTrips);
      // Minus the observer's own INFO (the second one is counted after it ran).
      quietCommands.push(after.commands - stats.commands - 1);
      quietCpu.push(after.cpuMs - stats.cpuMs);
    }
    // What the in-process copy holds: the heap with it, minus the heap once it is dropped.
    const withCopy = retainedHeap();
    store.cache.forget(schedule.name);
    const retainedBytesPerTask = (withCopy - retainedHeap()) / tasks;
    return {
      tasks,
      requestsPerPoll: opts.requestsPerPoll,
      retainedBytesPerTask,
      answerBytes,
      poll: { wall: summarize(polls.map((t) => t.wallMs)), cpu: summarize(polls.map((t) => t.cpuMs)) },
      nodeSoap: { wall: summarize(baselines.map((t) => t.wallMs)), cpu: summarize(baselines.map((t) => t.cpuMs)) },
      parser: { wall: summarize(parsers.map((t) => t.wallMs)), cpu: summarize(parsers.map((t) => t.cpuMs)) },
      changedPerPoll: changed / opts.polls,
      busy: { bytes: summarize(busyBytes), roundTrips: summarize(busyTrips) },
      quiet: {
        sent: summarize(quietSent),
        received: summarize(quietReceived),
        roundTrips: summarize(quietTrips),
        commands: summarize(quietCommands),
        redisCpuMs: summarize(quietCpu),
      },
      redisCpuMsBusy: summarize(busyRedisCpu),
    };
  } finally {
    redis.disconnect();
    await proxy.close();
  }
}
