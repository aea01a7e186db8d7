/**
 * `npm run bench`: speed and memory figures of batchwatch, printed as tables (never asserted).
 * Everything it starts (redis-server, the simulator, the HTTP server) is stopped before it exits.
 */
import { cpus, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../src/runtime/private-redis.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { benchEvaluate } from './core.ts';
import { gcAvailable, retainedHeap } from './gc.ts';
import { BENCH_PREFIX, benchPoll, SCHEDULE_ASSOCIATES, type PollBenchResult } from './poll.ts';
import { benchParse, PARSE_BENCH_NOTES } from './parse.ts';
import { describeCommands } from './redis-stats.ts';
import { benchRender } from './render.ts';
import { benchScrape } from './scrape.ts';
import { benchScrub, scrubRow } from './scrub.ts';
import { int, kib, mib, ms, signedMib, type Summary } from './stats.ts';
import { printTable } from './table.ts';

/** If something still holds the event loop after cleanup, do not hang: report and leave. */
const EXIT_GRACE_MS = 5000;

function benchCore(): void {
  const rows: string[][] = [];
  const budgets: Record<number, number> = { 100: 2000, 1000: 4000, 10_000: 12_000 };
  for (const tasks of [100, 1000, 10_000]) {
    const r = benchEvaluate(tasks, { warmup: 30, polls: 200, budgetMs: budgets[tasks] ?? 4000 });
    rows.push([
      int(r.tasks),
      ms(r.firstPollMs),
      ms(r.perPoll.median, 3),
      ms(r.perPoll.p95, 3),
      int(r.pollsPerSecond),
      r.changedPerPoll.toFixed(1),
      r.eventsPerPoll.toFixed(2),
      `${int(r.snapshotTasks)} / ${int(r.snapshotAlerts)}`,
      String(r.polls),
      signedMib(r.heapGrowth),
    ]);
  }
  printTable(
    'Pure core: evaluate() per poll',
    ['tasks', 'first poll ms', 'ms/poll p50', 'ms/poll p95', 'polls/s', 'changed/poll', 'events/poll', 'tasks / alerts kept', 'polls', 'heap growth'],
    rows,
    [
      'A poll is 60 s of simulated time: running tasks advance (8% frozen, so they stall), queued ones start, a few fail,',
      'finished ones are deleted and replaced. Heap growth = heapUsed after a full GC, after minus before the timed polls',
      `(after 30 warm-up polls)${gcAvailable ? '' : ' [gc not available: figures include garbage]'}.`,
    ],
  );
}

function benchScrubbing(): void {
  printTable(
    'Secret scrubbing: SuperOffice task text as a poll receives it, and a text answer',
    ['tasks', 'secrets', 'scrubTasks ms', 'text', 'scrub text ms'],
    [10_000, 100_000].map((tasks) => scrubRow(benchScrub(tasks))),
    ['Median of 5 runs; the secrets of a typical config registered (each searched in all its forms, any case).'],
  );
}

async function benchRendering(): Promise<void> {
  const rows: string[][] = [];
  for (const events of [1, 100]) {
    const r = await benchRender(events, { maxRuns: events === 1 ? 2000 : 200, budgetMs: 1500 });
    rows.push([String(r.events), ms(r.perRender.median, 3), ms(r.perRender.p95, 3), String(r.perRender.count), kib(r.textBytes), kib(r.htmlBytes)]);
  }
  printTable('Mail rendering: renderBatch()', ['events', 'ms p50', 'ms p95', 'renders', 'text', 'html'], rows);
}

/** `7` when every poll did the same, else `median (min-max)`; `-` when there was no such poll. */
function commandCount(s: Summary): string {
  if (s.count === 0) return '-';
  return s.min === s.max ? String(s.median) : `${s.median} (${s.min}-${s.max})`;
}

function pollRows(results: PollBenchResult[]): string[][] {
  return results.map((r) => [
    int(r.tasks),
    String(r.polls),
    ms(r.perPoll.median, 1),
    ms(r.perPoll.p95, 1),
    ms(r.soapMs.median, 1),
    r.soapCallsPerPoll.toFixed(1),
    `${commandCount(r.redisCommandsQuiet)} / ${commandCount(r.redisCommandsWithEvents)}`,
    `${r.polls - r.pollsWithEvents} / ${r.pollsWithEvents}`,
    kib(r.snapshotBytes),
  ]);
}

interface Resources {
  redis?: PrivateRedis;
  client?: Redis;
  observer?: Redis;
  simulator?: Simulator;
}

async function cleanup(res: Resources): Promise<void> {
  const steps: (() => Promise<unknown> | void)[] = [
    () => res.client?.quit(),
    () => res.observer?.quit(),
    () => res.simulator?.close(),
    () => res.redis?.close(),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

/** Issue 16's parser row: the product's response parser against node-soap parse-only, at 1k, 10k and 100k tasks. */
async function benchParsing(): Promise<void> {
  const rows: string[][] = [];
  const rounds: Record<number, number> = { 1000: 10, 10_000: 6, 100_000: Number(process.env.BATCHWATCH_BENCH_PARSE_ROUNDS ?? 3) };
  for (const tasks of [1000, 10_000, 100_000]) {
    const r = await benchParse(tasks, rounds[tasks] ?? 3);
    rows.push([
      int(r.tasks),
      mib(r.bytes),
      int(r.bytes / r.tasks),
      String(r.rounds),
      ms(r.oursMs, 1),
      ms(r.soapMs, 1),
      `${(r.soapMs / r.oursMs).toFixed(2)}x`,
      ms(r.oursCpuMs, 1),
      ms(r.soapCpuMs, 1),
      `${(r.soapCpuMs / r.oursCpuMs).toFixed(2)}x`,
    ]);
  }
  printTable(
    'SOAP response parsing: the product parser vs node-soap wsdl.xmlToObject (parse only)',
    ['tasks', 'answer', 'bytes/task', 'rounds', 'ours ms', 'node-soap ms', 'ratio', 'ours CPU ms', 'node-soap CPU ms', 'ratio (CPU)'],
    rows,
    PARSE_BENCH_NOTES,
  );
}

async function benchRealParts(res: Resources): Promise<void> {
  res.redis = await startPrivateRedis();
  res.client = new Redis(res.redis.url, { lazyConnect: true });
  res.observer = new Redis(res.redis.url, { lazyConnect: true });
  await Promise.all([res.client.connect(), res.observer.connect()]);
  res.simulator = await startSimulator({ scenario: 'empty' });
  const store = new SnapshotStore(res.client, BENCH_PREFIX);
  const env = { simulator: res.simulator, store, observer: res.observer };

  const results: PollBenchResult[] = [];
  for (const tasks of [200, 2000]) results.push(await benchPoll(env, tasks, { polls: 20, budgetMs: 20_000 }));
  printTable(
    `One poll end to end (SOAP to the simulator, evaluate, commit to redis-server), ${int(SCHEDULE_ASSOCIATES)} associates, 100 per request, 2 in flight`,
    ['tasks', 'polls', 'ms p50', 'ms p95', 'SOAP part ms p50', 'SOAP calls/poll', 'Redis cmds/poll: no events / events', 'polls: no events / events', 'snapshot'],
    pollRows(results),
    [
      'Redis commands are counted by the server (INFO stats total_commands_processed; the measuring INFO calls are left out).',
      'SOAP part = the client call (HTTP, XML parsing, validation); the simulator answers from the same process, so its',
      'response building is included too. The rest of a poll is the Redis load, evaluate() and the commit.',
      ...results.map((r) => `${int(r.tasks)} tasks, per poll by command (commandstats): ${describeCommands(r.byCommand, r.polls)}`),
      'Round trips: 2 per poll (load = MULTI+HMGET+HGETALL+EXEC pipelined; commit = EVAL, whose HGET/HSET run inside Redis),',
      '3 with events (the outbox HSET inside the same EVAL, then one HDEL once the notifier has the batch).',
    ],
  );

  const big = results.find((r) => r.tasks === 2000);
  if (!big) return;
  const scrape = await benchScrape(store, res.observer, big.schedule, { scrapes: 20, budgetMs: 8000 });
  printTable(
    `/metrics scrape over HTTP (task series computed from the Redis snapshot), ${int(big.tasks)} tasks`,
    ['scrapes', 'ms p50', 'ms p95', 'response', 'samples', 'Redis cmds/scrape'],
    [[String(scrape.scrapes), ms(scrape.perScrape.median, 1), ms(scrape.perScrape.p95, 1), kib(scrape.bytes), int(scrape.samples), scrape.redisCommandsPerScrape.toFixed(1)]],
  );
}

async function main(): Promise<number> {
  const started = performance.now();
  console.log(`# batchwatch bench: node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, ${mib(totalmem())} RAM`);
  const res: Resources = {};
  const onSignal = () => {
    void cleanup(res).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    benchCore();
    benchScrubbing();
    await benchRendering();
    await benchParsing();
    await benchRealParts(res);
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await cleanup(res);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const memory = process.memoryUsage();
  const retained = retainedHeap();
  printTable('Process at the end', ['rss', 'heap used', 'heap used after GC', 'heap total', 'external', 'wall time'], [
    [mib(memory.rss), mib(memory.heapUsed), mib(retained), mib(memory.heapTotal), mib(memory.external), `${ms((performance.now() - started) / 1000, 1)} s`],
  ]);
  return 0;
}

const code = await main();
process.exitCode = code;
setTimeout(() => {
  console.error(`bench: something still held the event loop ${EXIT_GRACE_MS} ms after cleanup; exiting`);
  process.exit(code);
}, EXIT_GRACE_MS).unref();
