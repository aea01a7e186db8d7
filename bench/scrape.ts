/**
 * /metrics as the daemon serves it, measured in this process: the snapshot is read from Redis by a
 * background refresh (as on a replica that did not poll), then scraped over HTTP by curl (another
 * process, so the client costs nothing here) while the event loop's longest stall is recorded.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { metricsRoute } from '../src/http/core-routes.ts';
import { startHttpServer } from '../src/http/server.ts';
import { createMetrics } from '../src/metrics/registry.ts';
import { SnapshotRefresher } from '../src/metrics/snapshot-view.ts';
import { SnapshotCache } from '../src/store/snapshot-cache.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { summarize, type Summary } from './stats.ts';

const run = promisify(execFile);

export interface CurlResult {
  ms: number;
  bytes: number;
}

/** GET with curl, body saved to `file`; time as curl measured it (connect to last byte). */
export async function curlGet(url: string, file: string): Promise<CurlResult> {
  const { stdout } = await run('curl', ['-s', '-o', file, '-w', '%{http_code} %{time_total} %{size_download}', url]);
  const [status, seconds, bytes] = stdout.trim().split(' ');
  if (status !== '200') throw new Error(`${url} answered ${status}`);
  return { ms: Number(seconds) * 1000, bytes: Number(bytes) };
}

/** Sample lines of an exposition saved by curlGet (read after the measurement, never inside it). */
export function countSamples(file: string): number {
  let samples = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) if (line !== '' && !line.startsWith('#')) samples++;
  return samples;
}

export interface ScrapeResult {
  tasks: number;
  /** Reading the whole snapshot and building the series in the background (a replica catching up). */
  catchUpMs: number;
  catchUpMaxBlockMs: number;
  scrapes: number;
  wall: Summary;
  cpu: Summary;
  maxBlockMs: Summary;
  bytes: number;
  samples: number;
  exportedTasks: number;
  droppedTasks: number;
}

function blockRecorder() {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return () => {
    histogram.disable();
    return histogram.max / 1e6;
  };
}

export async function benchScrape(
  redisUrl: string,
  prefix: string,
  schedule: string,
  tasks: number,
  dir: string,
  opts: { scrapes: number },
): Promise<ScrapeResult> {
  const redis = new Redis(redisUrl);
  const cache = new SnapshotCache();
  const store = new SnapshotStore(redis, prefix, cache);
  const view = new SnapshotRefresher({ cache, refresh: (s) => store.loadAll(s), schedules: [schedule] });
  const metrics = createMetrics({ snapshots: view, schedules: [schedule] });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, routes: [metricsRoute(metrics)] });
  try {
    const stopCatchUp = blockRecorder();
    const started = performance.now();
    await view.start(600_000);
    await metrics.settled();
    const catchUpMs = performance.now() - started;
    const catchUpMaxBlockMs = stopCatchUp();

    const file = join(dir, `metrics-${tasks}.txt`);
    await curlGet(`${server.url}/metrics`, file);
    const walls: number[] = [];
    const cpus: number[] = [];
    const blocks: number[] = [];
    let last: CurlResult | null = null;
    for (let i = 0; i < opts.scrapes; i++) {
      const stop = blockRecorder();
      const cpu = process.cpuUsage();
      last = await curlGet(`${server.url}/metrics`, file);
      const used = process.cpuUsage(cpu);
      blocks.push(stop());
      walls.push(last.ms);
      cpus.push((used.user + used.system) / 1000);
    }
    const body = readFileSync(file, 'utf8');
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1] ?? NaN);
    return {
      tasks,
      catchUpMs,
      catchUpMaxBlockMs,
      scrapes: walls.length,
      wall: summarize(walls),
      cpu: summarize(cpus),
      maxBlockMs: summarize(blocks),
      bytes: last?.bytes ?? 0,
      samples: countSamples(file),
      exportedTasks: gauge('batchwatch_task_series_exported'),
      droppedTasks: gauge('batchwatch_task_series_dropped'),
    };
  } finally {
    await server.close();
    await view.stop();
    metrics.close();
    redis.disconnect();
  }
}
