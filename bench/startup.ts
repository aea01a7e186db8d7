/**
 * How fast the CLI starts and how much memory an idle daemon holds: the compiled build (dist/, what production
 * runs) next to the TypeScript sources through tsx (what ran before the build, and a development checkout's fallback).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './daemon-run.ts';
import type { SimulatorChild } from './sim-protocol.ts';
import { summarize, type Summary } from './stats.ts';

const BIN = fileURLToPath(new URL('../bin/batchwatch.js', import.meta.url));
const COMPILED = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** The two ways bin/batchwatch.js starts batchwatch. */
export const STARTUP_VARIANTS = [
  { name: 'compiled (dist/)', env: {} },
  { name: 'tsx (src/)', env: { BATCHWATCH_FROM_SOURCE: '1' } },
] as const;

export interface StartupResult {
  variant: string;
  /** `batchwatch --version`: process start to exit. */
  cliVersion: Summary;
  /** `batchwatch check --help`: a command's usage, process start to exit. */
  checkHelp: Summary;
  /** `batchwatch run`: process start to the first /healthz 200. */
  daemonHealthy: Summary;
  /** RSS of a daemon with one schedule, `idleMs` after /healthz first answered (median over the idle runs). */
  idleRss: Summary;
}

function exitTime(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: { ...process.env, ...env } });
    proc.on('error', reject);
    proc.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`batchwatch ${args.join(' ')} exited ${code}`)),
    );
  });
}

async function daemonStart(
  config: string,
  port: number,
  idleMs: number,
  env: NodeJS.ProcessEnv,
): Promise<{ healthyMs: number; rss: number }> {
  const started = performance.now();
  const proc = spawn(process.execPath, [BIN, 'run', '--config', config], { stdio: 'ignore', env: { ...process.env, ...env } });
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (performance.now() - started > 60_000) throw new Error('daemon not healthy within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const healthyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, idleMs));
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    return { healthyMs, rss: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024 };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

/**
 * `runs` CLI starts and `daemons` daemon starts per variant (the last `idleRuns` of them idle `idleMs` before RSS
 * is read), the variants alternating run by run so that load from elsewhere on the machine falls on both alike.
 */
export async function benchStartup(
  sim: SimulatorChild,
  redisUrl: string,
  dir: string,
  opts: { runs: number; daemons: number; idleRuns: number; idleMs: number },
): Promise<StartupResult[]> {
  if (!existsSync(COMPILED)) throw new Error('dist/ is missing: `npm run bench` builds it (npm run build)');
  const samples = STARTUP_VARIANTS.map(() => ({
    version: [] as number[],
    help: [] as number[],
    healthy: [] as number[],
    rss: [] as number[],
  }));
  for (let i = 0; i < opts.runs; i++) {
    for (const [v, variant] of STARTUP_VARIANTS.entries()) {
      samples[v]!.version.push(await exitTime(['--version'], variant.env));
      samples[v]!.help.push(await exitTime(['check', '--help'], variant.env));
    }
  }
  const { url } = await sim.request({ type: 'load', tasks: 0, associates: 1, perRequest: 100, seed: 1, now: Date.now() }, 'loaded');
  const config = join(dir, 'idle.yaml');
  for (let i = 0; i < opts.daemons; i++) {
    const idle = i >= opts.daemons - opts.idleRuns;
    for (const [v, variant] of STARTUP_VARIANTS.entries()) {
      const port = await freePort();
      writeFileSync(
        config,
        `superoffice: { url: "${url}", username: demo, password: demo }
redis: { url: "${redisUrl}", prefix: bench-idle }
schedules: [{ name: idle, associates: [1], every: 60s }]
mail: { enabled: false }
http: { host: 127.0.0.1, port: ${port} }
log: { level: warn }
`,
      );
      const result = await daemonStart(config, port, idle ? opts.idleMs : 0, variant.env);
      samples[v]!.healthy.push(result.healthyMs);
      if (idle) samples[v]!.rss.push(result.rss);
    }
  }
  return STARTUP_VARIANTS.map((variant, v) => ({
    variant: variant.name,
    cliVersion: summarize(samples[v]!.version),
    checkHelp: summarize(samples[v]!.help),
    daemonHealthy: summarize(samples[v]!.healthy),
    idleRss: summarize(samples[v]!.rss),
  }));
}
