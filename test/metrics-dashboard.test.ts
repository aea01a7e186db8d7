import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createMetrics } from '../src/metrics/registry.ts';
import { MemoryView } from './helpers/memory-view.ts';
import { PROMTOOL_MISSING, usePromtool, promtool } from './helpers/prometheus-text.ts';

const Dashboard = z.object({
  title: z.string(),
  uid: z.string(),
  schemaVersion: z.number(),
  panels: z.array(
    z.object({
      id: z.number(),
      type: z.string(),
      title: z.string(),
      gridPos: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
      targets: z.array(z.object({ expr: z.string(), refId: z.string() })).min(1),
    }),
  ),
});

const dashboard = Dashboard.parse(
  JSON.parse(readFileSync(new URL('../deploy/grafana/batchwatch-dashboard.json', import.meta.url), 'utf8')),
);
const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

/** Grafana variables replaced by plain values, so the query is plain PromQL. */
const asPromql = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', 'batchwatch');

describe('Grafana dashboard', () => {
  it('has the main panels with unique ids', () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of [
      'SuperOffice up per schedule',
      'Last successful poll age',
      'Tasks by state',
      'Failed tasks',
      'Stalled tasks',
      'Poll duration p95',
      'Notifications',
    ]) {
      assert.ok(titles.includes(wanted), `panel ${wanted}`);
    }
    assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length);
  });

  it('queries only metrics batchwatch exports', async () => {
    const metrics = createMetrics({ snapshots: new MemoryView(), schedules: ['sales'], queueDepth: async () => 0, processMetrics: false });
    const exported = new Set<string>();
    const text = await metrics.text();
    metrics.close();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name + suffix);
    }
    for (const { panel, expr } of exprs) {
      const used = expr.match(/\b(?:superoffice|batchwatch)_[a-z_]+\b/g) ?? [];
      assert.ok(used.length > 0, `${panel}: ${expr}`);
      for (const name of used) assert.ok(exported.has(name), `${panel} uses ${name}, which is not exported`);
    }
  });

  it('every query is valid PromQL (parsed by promtool as recording rules)', { skip: !usePromtool && PROMTOOL_MISSING }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchwatch-dashboard-'));
    try {
      const rules = exprs.map(({ expr }, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(asPromql(expr))}`);
      const file = join(dir, 'queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const { status, output } = promtool(['check', 'rules', file]);
      assert.equal(status, 0, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
