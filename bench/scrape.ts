import type { Redis } from 'ioredis';
import { healthRoutes, metricsRoute } from '../src/http/core-routes.ts';
import { startHttpServer } from '../src/http/server.ts';
import { createMetrics } from '../src/metrics/registry.ts';
import { SnapshotRefresher } from '../src/metrics/snapshot-view.ts';
import type { SnapshotStore } from '../src/store/snapshot-store.ts';
import { delta, readCounters } from './redis-stats.ts';
import { summarize, type Summary } from './stats.ts';

export interface ScrapeResult {
  scrapes: number;
  perScrape: Summary;
  bytes: number;
  samples: number;
  redisCommandsPerScrape: number;
}

/** GET /metrics over HTTP, task series computed from the snapshot in Redis at scrape time. */
export async function benchScrape(
  store: SnapshotStore,
  observer: Redis,
  schedule: string,
  opts: { scrapes: number; budgetMs: number },
): Promise<ScrapeResult> {
  const view = new SnapshotRefresher({ cache: store.cache, refresh: (s) => store.loadAll(s), schedules: [schedule] });
  await view.start();
  const metrics = createMetrics({ snapshots: view, schedules: [schedule] });
  await metrics.settled();
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    routes: [metricsRoute(metrics), ...healthRoutes({ readiness: async () => ({ ready: true, reasons: [] }) })],
  });
  try {
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${server.url}/metrics`);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    };
    let body = '';
    for (let i = 0; i < 3; i++) body = await scrape();

    const durations: number[] = [];
    let commands = 0;
    const deadline = performance.now() + opts.budgetMs;
    while (durations.length < opts.scrapes && performance.now() < deadline) {
      const before = await readCounters(observer);
      const started = performance.now();
      body = await scrape();
      durations.push(performance.now() - started);
      commands += delta(before, await readCounters(observer)).total;
    }
    return {
      scrapes: durations.length,
      perScrape: summarize(durations),
      bytes: Buffer.byteLength(body),
      samples: body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length,
      redisCommandsPerScrape: commands / durations.length,
    };
  } finally {
    await server.close();
    await view.stop();
    metrics.close();
  }
}
