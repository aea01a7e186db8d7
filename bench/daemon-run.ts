/**
 * The real daemon (`batchwatch run`, its own process) polling the simulator child while the table moves:
 * its memory after 5 polls, the time from a SuperOffice answer to the SMTP server accepting the alert mail,
 * and /metrics as Prometheus would see it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { scheduleKeys } from '../src/store/keys.ts';
import { countSamples, curlGet } from './scrape.ts';
import type { SimulatorChild } from './sim-protocol.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { summarize, type Summary } from './stats.ts';

const BIN = fileURLToPath(new URL('../bin/batchwatch.js', import.meta.url));
const PREFIX = 'bench-daemon';
const SCHEDULE = 'tenant';
/** One SOAP call per poll, as with `associates: all`: the answer of a poll is one HTTP response. */
export const DAEMON_ASSOCIATES = 100;

export interface DaemonEnv {
  redisUrl: string;
  observer: Redis;
  sim: SimulatorChild;
  smtp: SmtpSink;
  dir: string;
}

export interface ScrapeFigures {
  ms: Summary;
  bytes: number;
  samples: number;
}

export interface DaemonResult {
  tasks: number;
  everyMs: number;
  polls: number;
  rssAfter5Polls: number;
  peakRss: number;
  /** Poll answer -> SMTP accept of the mail that poll produced, ms. */
  latency: Summary;
  /** Of that: the answer's end (its last byte handed to the kernel by the server) -> the daemon's reader done with it. */
  parseTail: Summary;
  /** Of that: the daemon's reader done with the answer -> SMTP accept (evaluate, commit, notification queue, render, SMTP). */
  afterParse: Summary;
  /** The daemon's CPU time (user + system) per poll after the first two, ms. */
  cpuPerPollMs: number;
  pollSeconds: number;
  scrape: ScrapeFigures;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** User + system CPU time of a process so far, ms (Linux: /proc/PID/stat, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

function configYaml(simUrl: string, redisUrl: string, smtpPort: number, httpPort: number, everyMs: number, perRequest: number): string {
  const associates = Array.from({ length: DAEMON_ASSOCIATES }, (_, i) => i + 1).join(', ');
  return `superoffice:
  url: ${simUrl}
  username: demo
  password: demo
  timeout: 10m
  associatesPerRequest: ${perRequest}
redis:
  url: ${redisUrl}
  prefix: ${PREFIX}
schedules:
  - name: ${SCHEDULE}
    associates: [${associates}]
    every: ${everyMs}ms
rules:
  tasks:
    - name: "TravelGateway*"
      ignore: true
    - name: "Mailing*"
      stallAfter: 2h
mail:
  smtp: smtp://127.0.0.1:${smtpPort}
  from: "batchwatch <batchwatch@bench.example>"
  to: [ops@bench.example]
http:
  host: 127.0.0.1
  port: ${httpPort}
log:
  level: ${process.env.BENCH_DAEMON_LOG ?? 'debug'}
`;
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchDaemon(
  env: DaemonEnv,
  tasks: number,
  opts: { everyMs: number; mails: number; budgetMs: number; requestsPerPoll: number },
): Promise<DaemonResult> {
  await env.observer.del(...Object.values(scheduleKeys(PREFIX, SCHEDULE)));
  const perRequest = Math.ceil(DAEMON_ASSOCIATES / opts.requestsPerPoll);
  const { url } = await env.sim.request(
    { type: 'load', tasks, associates: DAEMON_ASSOCIATES, perRequest, seed: tasks + 7, now: Date.now() },
    'loaded',
  );
  const config = join(env.dir, `daemon-${tasks}.yaml`);
  const httpPort = await freePort();
  writeFileSync(config, configYaml(url, env.redisUrl, env.smtp.port, httpPort, opts.everyMs, perRequest));
  const firstMail = env.smtp.mails.length;
  // BENCH_DAEMON_NODE_ARGS: node flags for the daemon only (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof, --trace-gc).
  const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const daemon = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const timeline: string[] = [];
  // When the daemon's reader finished each SOAP answer: its debug line per call (the daemon logs at debug).
  const parsedAt: number[] = [];
  let partial = '';
  const keep = (d: Buffer) => {
    const text = d.toString();
    output = (output + text).slice(-2_000_000);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('"msg":"GetBatchTaskInfosByAssociates"')) continue;
      const time = /"time":"([^"]+)"/.exec(line)?.[1];
      if (time) parsedAt.push(Date.parse(time));
    }
  };
  daemon.stdout.on('data', keep);
  daemon.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
  try {
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    await waitFor('the daemon to be ready', 30_000, async () => {
      if (daemon.exitCode !== null) throw new Error(`the daemon exited: ${output}`);
      return (await fetch(`${httpUrl}/readyz`).catch(() => null))?.status === 200 ? true : null;
    });
    await env.sim.request({ type: 'auto-step', on: true }, 'ok');
    const version = async () => Number((await env.observer.hget(scheduleKeys(PREFIX, SCHEDULE).snapshot, 'version')) ?? 0);
    await waitFor('2 polls', opts.budgetMs, async () => ((await version()) >= 2 ? true : null));
    const cpuAfter2 = cpuMsOf(daemon.pid!);
    await waitFor('5 polls', opts.budgetMs, async () => ((await version()) >= 5 ? true : null));
    const { rss: rssAfter5Polls } = rssOf(daemon.pid!);
    const deadline = Date.now() + opts.budgetMs;
    await waitFor(`${opts.mails} alert mails`, opts.budgetMs, () =>
      env.smtp.mails.length - firstMail >= opts.mails + 1 || Date.now() > deadline ? true : null,
    );
    await env.sim.request({ type: 'auto-step', on: false }, 'ok');
    const polls = await version();
    const cpuPerPollMs = (cpuMsOf(daemon.pid!) - cpuAfter2) / Math.max(1, polls - 2);
    const { peak } = rssOf(daemon.pid!);

    const { answers, failedIn } = await env.sim.request({ type: 'answers' }, 'answers');
    const generationOf = new Map(failedIn);
    const latencies: number[] = [];
    const tails: number[] = [];
    const afterParse: number[] = [];
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const mail of env.smtp.mails.slice(firstMail)) {
      const generations = mail.failedIds.map((id) => generationOf.get(id)).filter((g): g is number => g !== undefined);
      if (generations.length === 0) continue;
      const generation = Math.min(...generations);
      // Generation 0 is the first poll, which sees every task for the first time: a warm-up, not a sample.
      if (generation === 0) continue;
      // The poll's answer has arrived once its last response has.
      const ended = answers.filter((a) => a.generation === generation).map((a) => a.endedAt);
      if (ended.length === 0) continue;
      const answerEnd = Math.max(...ended);
      latencies.push(mail.acceptedAt - answerEnd);
      // The reader is done with the poll's answers at the last call line between the answer's end and the mail.
      const parsed = Math.max(...parsedAt.filter((t) => t >= Math.floor(answerEnd) && t <= mail.acceptedAt));
      if (Number.isFinite(parsed)) {
        tails.push(parsed - answerEnd);
        afterParse.push(mail.acceptedAt - parsed);
      }
      // With BENCH_DAEMON_LOG the daemon's log is kept: these lines put its timestamps next to the answer's end.
      timeline.push(
        `bench: generation ${generation}: answer ended ${iso(answerEnd)}, read ${Number.isFinite(parsed) ? iso(parsed) : '?'}, SMTP accepted ${iso(mail.acceptedAt)}`,
      );
    }

    const scrapes = [];
    for (let i = 0; i < 3; i++) scrapes.push(await curlGet(`${httpUrl}/metrics`, join(env.dir, 'daemon-metrics.txt')));
    const body = readFileSync(join(env.dir, 'daemon-metrics.txt'), 'utf8');
    const sum = Number(/^batchwatch_poll_duration_seconds_sum\{schedule="tenant"\} (\S+)/m.exec(body)?.[1]);
    const count = Number(/^batchwatch_poll_duration_seconds_count\{schedule="tenant"\} (\S+)/m.exec(body)?.[1]);
    return {
      tasks,
      everyMs: opts.everyMs,
      polls,
      rssAfter5Polls,
      peakRss: peak,
      latency: summarize(latencies),
      parseTail: summarize(tails),
      afterParse: summarize(afterParse),
      cpuPerPollMs,
      pollSeconds: sum / count,
      scrape: {
        ms: summarize(scrapes.map((s) => s.ms)),
        bytes: scrapes.at(-1)!.bytes,
        samples: countSamples(join(env.dir, 'daemon-metrics.txt')),
      },
    };
  } finally {
    if (process.env.BENCH_DAEMON_LOG)
      writeFileSync(join(env.dir, '..', `bench-daemon-${tasks}.log`), `${output}\n${timeline.join('\n')}\n`);
    await env.sim.request({ type: 'auto-step', on: false }, 'ok').catch(() => undefined);
    daemon.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    if (code === 'timeout') daemon.kill('SIGKILL');
  }
}
