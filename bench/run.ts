/**
 * `npm run bench`: speed and memory figures of batchwatch, printed as tables (never asserted).
 * Everything it starts (redis-server, the simulator, the HTTP server) is stopped before it exits.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../src/runtime/private-redis.ts';
import { benchEvaluate } from './core.ts';
import { benchDaemon, DAEMON_ASSOCIATES } from './daemon-run.ts';
import { gcAvailable, retainedHeap } from './gc.ts';
import { printGoals, type Figures } from './goals.ts';
import { benchParse, PARSE_BENCH_NOTES } from './parse.ts';
import { benchRender } from './render.ts';
import { benchStatus } from './status.ts';
import { benchScrape } from './scrape.ts';
import { benchScrub, scrubRow } from './scrub.ts';
import { SimulatorChild } from './sim-protocol.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { benchStartup } from './startup.ts';
import { int, kib, mib, ms, signedMib } from './stats.ts';
import { printTable } from './table.ts';
import { benchWholePoll, POLL_ASSOCIATES } from './whole-poll.ts';

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
    [
      'tasks',
      'first poll ms',
      'ms/poll p50',
      'ms/poll p95',
      'polls/s',
      'changed/poll',
      'events/poll',
      'tasks / alerts kept',
      'polls',
      'heap growth',
    ],
    rows,
    [
      'A poll is 60 s of simulated time: running tasks advance (8% frozen, so they stall), queued ones start, a few fail,',
      'finished ones are deleted and replaced. Heap growth = heapUsed after a full GC, after minus before the timed polls',
      `(after 30 warm-up polls)${gcAvailable ? '' : ' [gc not available: figures include garbage]'}.`,
    ],
  );
}

async function benchScrubbing(): Promise<void> {
  const rows: string[][] = [];
  for (const [tasks, rotations] of [
    [10_000, 0],
    [100_000, 0],
    [30_000, 720],
    [100_000, 10_000],
  ] as const)
    rows.push(scrubRow(await benchScrub(tasks, rotations)));
  printTable(
    'Secret scrubbing: SuperOffice task text as a poll receives it, and a text answer',
    ['tasks', 'rotations', 'secrets', 'scrubTasks ms', 'text', 'scrub text ms'],
    rows,
    [
      'Median of 5 runs; the secrets of a typical config registered (each searched in all its forms, any case).',
      'rotations: tickets, JWTs and OAuth2 access tokens issued before (a long uptime); each replaces an older one in its slot,',
      'so the secrets searched stay bounded (before, every issued value stayed: a review measured 39 ms with 5 secrets, 888 ms with 720).',
    ],
  );
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

async function benchRendering(): Promise<void> {
  const rows: string[][] = [];
  for (const events of [1, 100]) {
    const r = await benchRender(events, { maxRuns: events === 1 ? 2000 : 200, budgetMs: 1500 });
    rows.push([
      String(r.events),
      ms(r.perRender.median, 3),
      ms(r.perRender.p95, 3),
      String(r.perRender.count),
      kib(r.textBytes),
      kib(r.htmlBytes),
    ]);
  }
  printTable('Mail rendering: renderBatch()', ['events', 'ms p50', 'ms p95', 'renders', 'text', 'html'], rows);
}

async function benchStatusView(): Promise<void> {
  const rows: string[][] = [];
  for (const tasks of sizes()) {
    const r = await benchStatus(2 * tasks, { maxRuns: 200, budgetMs: 2000 });
    rows.push([
      int(r.alerts),
      int(r.running),
      ms(r.build.median, 2),
      ms(r.build.p95, 2),
      ms(r.reused.median, 3),
      ms(r.render.median, 3),
      String(r.build.count),
    ]);
  }
  printTable(
    'Status view: buildStatus() from one snapshot (rows picked by bounded selection; "reused": the rows the collector keeps while the snapshot version is unchanged), renderFragment()',
    ['alerts', 'running', 'build ms p50', 'build ms p95', 'reused ms p50', 'render ms p50', 'builds'],
    rows,
  );
}

interface Resources {
  redis?: PrivateRedis;
  observer?: Redis;
  sim?: SimulatorChild;
  smtp?: SmtpSink;
  dir?: string;
}

async function cleanup(res: Resources): Promise<void> {
  const steps: (() => Promise<unknown> | undefined)[] = [
    () => res.observer?.quit(),
    () => res.sim?.stop(),
    () => res.smtp?.close(),
    () => res.redis?.close(),
    () => {
      if (res.dir) rmSync(res.dir, { recursive: true, force: true });
    },
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

/** Task counts to run at: BENCH_SIZES=1000,10000 to leave out the slow 100k runs. */
function sizes(): number[] {
  const configured = process.env.BENCH_SIZES?.split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return configured && configured.length > 0 ? configured : [1000, 10_000, 100_000];
}

/**
 * Sections to run: BENCH_ONLY=daemon (comma-separated: core, render, status, scrub, parse, poll, scrape, daemon, startup)
 * runs just those; unset runs all. Without `poll`, the daemon's interval comes from BENCH_DAEMON_EVERY_MS or DEFAULT_EVERY_MS;
 * BENCH_DAEMON_MAILS sets how many alert mails the daemon run waits for (more latency samples).
 */
const SECTIONS = ['core', 'render', 'status', 'scrub', 'parse', 'poll', 'scrape', 'daemon', 'startup'] as const;
type Section = (typeof SECTIONS)[number];
function selected(): Set<Section> {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter((s): s is Section => (SECTIONS as readonly string[]).includes(s));
  return new Set(only && only.length > 0 ? only : SECTIONS);
}
const run = selected();
/** The daemon's poll interval when the whole-poll section did not measure a poll first (1.5 x a poll on this machine). */
const DEFAULT_EVERY_MS: Record<number, number> = { 1000: 1000, 10_000: 2000, 100_000: 19_000 };

/** requestsPerPoll: the client refuses answers over 64 MiB, and 100,000 tasks are ~86 MiB of XML, so two calls. */
const PLAN: Record<number, { polls: number; scrapes: number; mails: number; requestsPerPoll: number }> = {
  1000: { polls: 8, scrapes: 10, mails: 8, requestsPerPoll: 1 },
  10_000: { polls: 5, scrapes: 8, mails: 6, requestsPerPoll: 1 },
  100_000: { polls: 3, scrapes: 5, mails: 4, requestsPerPoll: 2 },
};
const planFor = (n: number) => PLAN[n] ?? { polls: 3, scrapes: 5, mails: 4, requestsPerPoll: Math.max(1, Math.ceil(n / 60_000)) };

/**
 * The daemon's poll interval: 1.5 times a poll of this size (as measured just before), so a poll ends well
 * before the next begins, as in a sensibly configured deployment (back-to-back polls would make every mail
 * wait for the next answer's parse as well).
 */
const intervalFor = (pollMs: number) => Math.max(1000, Math.ceil((1.5 * pollMs) / 1000) * 1000);

async function benchAtScale(res: Resources): Promise<Figures> {
  res.redis = await startPrivateRedis();
  res.observer = new Redis(res.redis.url);
  res.sim = await SimulatorChild.start();
  res.smtp = await startSmtpSink();
  res.dir = mkdtempSync(join(tmpdir(), 'batchwatch-bench-'));
  const figures: Figures = { polls: [], scrapes: [], daemons: [] };
  for (const tasks of sizes()) {
    const plan = planFor(tasks);
    let everyMs = Number(process.env.BENCH_DAEMON_EVERY_MS) || (DEFAULT_EVERY_MS[tasks] ?? 1000);
    if (run.has('poll')) {
      console.error(`# ${int(tasks)} tasks: whole poll vs node-soap...`);
      const poll = await benchWholePoll({ sim: res.sim, redisPort: res.redis.port, observer: res.observer, dir: res.dir }, tasks, {
        polls: plan.polls,
        quietPolls: 3,
        requestsPerPoll: plan.requestsPerPoll,
      });
      figures.polls.push(poll);
      everyMs = intervalFor(poll.poll.wall.median);
    }
    if (run.has('scrape')) {
      console.error(`# ${int(tasks)} tasks: /metrics...`);
      figures.scrapes.push(await benchScrape(res.redis.url, `bench-poll-${tasks}`, 'tenant', tasks, res.dir, { scrapes: plan.scrapes }));
    }
    if (!run.has('daemon')) continue;
    console.error(`# ${int(tasks)} tasks: the daemon (every ${everyMs} ms)...`);
    figures.daemons.push(
      await benchDaemon({ redisUrl: res.redis.url, observer: res.observer, sim: res.sim, smtp: res.smtp, dir: res.dir }, tasks, {
        everyMs,
        mails: Number(process.env.BENCH_DAEMON_MAILS) || plan.mails,
        budgetMs: 20 * 60_000,
        requestsPerPoll: plan.requestsPerPoll,
      }),
    );
  }
  return figures;
}

/** The largest a TCP receive buffer may grow (Linux), for the daemon table's note. */
function tcpReceiveBufferMax(): string {
  try {
    return mib(Number(readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().split(/\s+/)[2]));
  } catch {
    return 'unknown';
  }
}

function printScale(f: Figures): void {
  printTable(
    `Whole poll (HTTP -> parse -> evaluate -> Redis commit, ${POLL_ASSOCIATES} associates) vs parse-only of the same bytes`,
    [
      'tasks',
      'calls',
      'answer',
      'poll ms p50',
      'poll CPU ms',
      'node-soap ms',
      'node-soap CPU ms',
      'parser ms',
      'parser CPU ms',
      'speed vs node-soap (wall / CPU)',
      'runs',
    ],
    f.polls.map((p) => [
      int(p.tasks),
      String(p.requestsPerPoll),
      mib(p.answerBytes),
      ms(p.poll.wall.median, 0),
      ms(p.poll.cpu.median, 0),
      ms(p.nodeSoap.wall.median, 0),
      ms(p.nodeSoap.cpu.median, 0),
      ms(p.parser.wall.median, 0),
      ms(p.parser.cpu.median, 0),
      `${(p.nodeSoap.wall.median / p.poll.wall.median).toFixed(2)}x / ${(p.nodeSoap.cpu.median / p.poll.cpu.median).toFixed(2)}x`,
      String(p.poll.wall.count),
    ]),
    [
      'The answer is rendered by the simulator child process before it is asked for, so the poll pays only for receiving it.',
      "node-soap = wsdl.xmlToObject; parser = batchwatch's streaming reader (the one the poll uses, fed in socket-sized pieces),",
      "both on the bytes of that poll's answer, interleaved with the polls (alternating which runs first). CPU = this process's",
      'user+system time.',
    ],
  );
  printTable(
    'Redis per poll (counted by a relay between the store and redis-server; commands and CPU from INFO)',
    [
      'tasks',
      'quiet: sent / received',
      'quiet: round trips',
      'quiet: commands',
      'quiet: Redis CPU ms',
      'busy: changed tasks',
      'busy: bytes',
      'busy: round trips',
      'busy: Redis CPU ms',
      'heap kept per task',
    ],
    f.polls.map((p) => [
      int(p.tasks),
      `${int(p.quiet.sent.median)} / ${int(p.quiet.received.median)} B`,
      String(p.quiet.roundTrips.median),
      String(p.quiet.commands.median),
      ms(p.quiet.redisCpuMs.median, 1),
      int(p.changedPerPoll),
      kib(p.busy.bytes.median),
      String(p.busy.roundTrips.median),
      ms(p.redisCpuMsBusy.median, 1),
      `${int(p.retainedBytesPerTask)} B`,
    ]),
    [
      'Quiet: SuperOffice answered exactly as last time. A poll is 2 round trips (the read script, the commit script); the',
      "daemon's poll lock adds 2 more around it (SET NX before, the release after, which the poll does not wait for).",
      'Commands include those a script runs inside Redis. Heap kept per task = the in-process snapshot copy the poll and the',
      'metrics share (heap after a full GC with it, minus without it), over the tasks tracked.',
    ],
  );
  printTable(
    '/metrics served from the in-process copy (scraped by curl; default cap metrics.maxExportedTasks)',
    [
      'tasks',
      'catch-up ms',
      'catch-up stall ms',
      'scrape ms p50',
      'p95',
      'CPU ms',
      'longest stall ms',
      'size',
      'samples',
      'exported / over cap',
    ],
    f.scrapes.map((s) => [
      int(s.tasks),
      ms(s.catchUpMs, 0),
      ms(s.catchUpMaxBlockMs, 0),
      ms(s.wall.median, 0),
      ms(s.wall.p95, 0),
      ms(s.cpu.median, 0),
      ms(s.maxBlockMs.max, 0),
      mib(s.bytes),
      int(s.samples),
      `${int(s.exportedTasks)} / ${int(s.droppedTasks)}`,
    ]),
    [
      'Catch-up = a replica that did not poll reads the whole snapshot from Redis and builds the series (in the background).',
      'Stall = longest event-loop delay seen by perf_hooks.monitorEventLoopDelay (1 ms resolution) during the scrapes.',
    ],
  );
  printTable(
    'The daemon (batchwatch run, own process) polling a moving table; mail to a local SMTP server',
    [
      'tasks',
      'every',
      'polls',
      'poll s (mean)',
      'CPU s/poll',
      'RSS after 5 polls',
      'peak RSS',
      'answer -> SMTP accept p50',
      'p95',
      'of it: read tail p50',
      'after read p50',
      'mails',
      '/metrics ms',
      '/metrics size',
    ],
    f.daemons.map((d) => [
      int(d.tasks),
      `${d.everyMs / 1000}s`,
      String(d.polls),
      ms(d.pollSeconds, 1),
      ms(d.cpuPerPollMs / 1000, 1),
      mib(d.rssAfter5Polls),
      mib(d.peakRss),
      ms(d.latency.median, 0),
      ms(d.latency.p95, 0),
      ms(d.parseTail.median, 0),
      ms(d.afterParse.median, 0),
      String(d.latency.count),
      ms(d.scrape.ms.median, 0),
      mib(d.scrape.bytes),
    ]),
    [
      `${DAEMON_ASSOCIATES} associates, one SOAP call per poll (two at 100k: the client caps an answer at 64 MiB), as with associates: all.`,
      "After every poll's answers the table moves one step and one running task fails, so every poll mails. Latency = the SMTP",
      'server accepted the mail minus the end of the last answer of the poll it came from (the server handed its last byte to the',
      "kernel). Read tail = from then until the daemon's reader was done with the answers (its debug log line per call): the",
      `part of the answer still in the socket buffers (a receive buffer grows to net.ipv4.tcp_rmem's maximum, ${tcpReceiveBufferMax()} here) is read`,
      "after the server is done. After read = evaluate, commit, notification queue, rendering and SMTP. CPU s/poll = the daemon's",
      'user+system time per poll after the first two (robust to a shared machine, unlike the times). every = 1.5 x the poll',
      'time measured above (or BENCH_DAEMON_EVERY_MS), so polls do not run back to back. /metrics = curl against the daemon.',
    ],
  );
}

/** Start-up and idle memory of the compiled build next to the sources through tsx. */
async function benchStartUp(res: Resources): Promise<void> {
  res.redis ??= await startPrivateRedis();
  res.sim ??= await SimulatorChild.start();
  res.dir ??= mkdtempSync(join(tmpdir(), 'batchwatch-bench-'));
  console.error('# start-up: compiled vs tsx...');
  const results = await benchStartup(res.sim, res.redis.url, res.dir, { runs: 10, daemons: 3, idleRuns: 2, idleMs: 10_000 });
  printTable(
    'Start-up and idle memory: the compiled build (production) vs the sources through tsx (before the build)',
    ['bin/batchwatch.js runs', 'batchwatch --version', 'check --help', 'run: start to /healthz 200', 'idle daemon RSS'],
    results.map((r) => [
      r.variant,
      `${ms(r.cliVersion.median, 0)} ms`,
      `${ms(r.checkHelp.median, 0)} ms`,
      `${ms(r.daemonHealthy.median, 0)} ms`,
      mib(r.idleRss.median),
    ]),
    [
      'Medians: 10 runs of each command, 3 daemon starts; idle RSS (VmRSS) 10 s after /healthz first answered, one schedule',
      'polling an empty tenant every 60 s, mail off (median of 2). The variants alternate run by run. tsx = BATCHWATCH_FROM_SOURCE=1.',
    ],
  );
}

async function main(): Promise<number> {
  const started = performance.now();
  console.log(
    `# batchwatch bench: node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, ${mib(totalmem())} RAM, load average at start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const res: Resources = {};
  const onSignal = () => {
    void cleanup(res).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (run.has('core')) benchCore();
    if (run.has('render')) await benchRendering();
    if (run.has('status')) await benchStatusView();
    if (run.has('scrub')) await benchScrubbing();
    if (run.has('parse')) await benchParsing();
    const scale = run.has('poll') || run.has('scrape') || run.has('daemon');
    const figures: Figures = scale ? await benchAtScale(res) : { polls: [], scrapes: [], daemons: [] };
    printScale(figures);
    if (run.has('startup')) await benchStartUp(res);
    printGoals(figures);
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
  printTable(
    'Process at the end',
    ['rss', 'heap used', 'heap used after GC', 'heap total', 'external', 'wall time'],
    [
      [
        mib(memory.rss),
        mib(memory.heapUsed),
        mib(retained),
        mib(memory.heapTotal),
        mib(memory.external),
        `${ms((performance.now() - started) / 1000, 1)} s`,
      ],
    ],
  );
  return 0;
}

const code = await main();
process.exitCode = code;
setTimeout(() => {
  console.error(`bench: something still held the event loop ${EXIT_GRACE_MS} ms after cleanup; exiting`);
  process.exit(code);
}, EXIT_GRACE_MS).unref();
