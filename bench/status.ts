// Status page bench: the time to build the status view (and render the page's fragment) when a schedule has many alerts.
import type { Snapshot } from '../src/core/model.ts';
import { emptySnapshot } from '../src/core/model.ts';
import { buildStatus, selectRows, type StatusInput } from '../src/status/model.ts';
import { renderFragment } from '../src/status/render.ts';
import { Fleet } from './fleet.ts';
import { sample, summarize, type Summary } from './stats.ts';

export interface StatusBenchResult {
  alerts: number;
  running: number;
  /** Picking the rows and building the view from scratch (a new snapshot version). */
  build: Summary;
  /** The same with the rows already picked (the collector reuses them while the snapshots are unchanged). */
  reused: Summary;
  render: Summary;
}

/** One schedule with `size` tasks: half failed (a `failed` alert each), half running (every 100th of those stalled). */
function snapshotOf(size: number, now: number): Snapshot {
  const snapshot: Snapshot = { ...emptySnapshot('sales'), version: 1, lastPollAt: now, lastSuccessAt: now };
  const tasks = new Fleet({ tasks: size, associates: Math.max(1, Math.ceil(size / 2)), now, seed: 11 }).current();
  tasks.forEach((task, i) => {
    const failed = i % 2 === 0;
    const state = failed ? 'Failed' : 'Started';
    snapshot.tasks[String(task.id)] = {
      task: { ...task, state },
      firstSeenAt: now - 3_600_000,
      stateSince: now - 600_000,
      progressSince: now - ((i * 7919) % 3_600_000),
    };
    const kind = failed ? 'failed' : i % 200 === 1 ? 'stalled' : null;
    if (kind)
      snapshot.alerts[`${kind}:${task.id}`] = {
        kind,
        subject: String(task.id),
        eventId: `sales:${kind}:${task.id}`,
        firedAt: now - ((i * 104_729) % 3_600_000),
        lastNotifiedAt: now,
        repeats: 0,
      };
  });
  return snapshot;
}

export async function benchStatus(size: number, opts: { maxRuns: number; budgetMs: number }): Promise<StatusBenchResult> {
  const now = Date.UTC(2025, 0, 6, 10, 0, 0);
  const snapshot = snapshotOf(size, now);
  const input: StatusInput = {
    now,
    schedules: [{ name: 'sales', timing: { every: 60_000 }, snapshot }],
    snapshotsCurrent: true,
    annotations: new Map(),
    silences: [],
    windows: [],
    notifications: [],
    problems: [],
  };
  const selection = selectRows([snapshot]);
  const view = buildStatus(input);
  for (let i = 0; i < 3; i++) buildStatus(input);
  const build = await sample(() => buildStatus(input), { ...opts, minRuns: 5 });
  const reused = await sample(() => buildStatus({ ...input, selection }), { ...opts, minRuns: 5 });
  const render = await sample(() => renderFragment(view), { ...opts, minRuns: 5 });
  return {
    alerts: Object.keys(snapshot.alerts).length,
    running: view.running.items.length + view.running.more,
    build: summarize(build),
    reused: summarize(reused),
    render: summarize(render),
  };
}
