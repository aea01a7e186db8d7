/** How fast the CLI starts and how much memory an idle daemon holds (to compare with a compiled build later). */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './daemon-run.ts';
import type { SimulatorChild } from './sim-protocol.ts';
import { summarize, type Summary } from './stats.ts';

const BIN = fileURLToPath(new URL('../bin/batchwatch.js', import.meta.url));

export interface StartupResult {
  /** `batchwatch --version`: process start to exit. */
  cliVersion: Summary;
  /** `batchwatch run`: process start to the first /healthz 200. */
  daemonHealthy: Summary;
  /** RSS of a daemon with one schedule, 10 s after its first poll of an empty tenant. */
  idleRss: number;
}

function exitTime(args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
    proc.on('error', reject);
    proc.on('exit', () => resolve(performance.now() - started));
  });
}

async function daemonStart(config: string, port: number, idleMs: number): Promise<{ healthyMs: number; rss: number }> {
  const started = performance.now();
  const proc = spawn(process.execPath, [BIN, 'run', '--config', config], { stdio: 'ignore' });
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
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

export async function benchStartup(sim: SimulatorChild, redisUrl: string, dir: string, runs: number): Promise<StartupResult> {
  const versions: number[] = [];
  for (let i = 0; i < runs; i++) versions.push(await exitTime(['--version']));
  const { url } = await sim.request({ type: 'load', tasks: 0, associates: 1, perRequest: 100, seed: 1, now: Date.now() }, 'loaded');
  const healthy: number[] = [];
  let idleRss = NaN;
  for (let i = 0; i < Math.max(1, Math.floor(runs / 2)); i++) {
    const port = await freePort();
    const config = join(dir, 'idle.yaml');
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
    const last = i === Math.max(1, Math.floor(runs / 2)) - 1;
    const result = await daemonStart(config, port, last ? 10_000 : 0);
    healthy.push(result.healthyMs);
    if (last) idleRss = result.rss;
  }
  return { cliVersion: summarize(versions), daemonHealthy: summarize(healthy), idleRss };
}
