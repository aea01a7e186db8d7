/**
 * The tasks that get per-task series, kept up to date in the background as snapshots change (never in a
 * scrape): one row per exported task with its lines already rendered, rebuilt only for records that changed
 * (evaluate keeps unchanged ones as the same object), and the per-associate state counts. With more candidates than
 * `maxExportedTasks`, a deterministic selection keeps the most useful ones (see exportClass).
 */
import type { Snapshot, TaskRecord } from '../core/model.ts';
import { KNOWN_STATES } from '../core/task.ts';
import { Slicer } from '../runtime/event-loop.ts';
import { exportClass, exportUntil, renderTask, type TaskRow } from './snapshot-series.ts';
import type { CallbackLevel } from '../log-levels.ts';

/** A row as a scrape gets it: with its lines. */
export type ExportedRow = TaskRow & { text: readonly string[] };

export type IndexLog = (level: Extract<CallbackLevel, 'info' | 'warn'>, msg: string, fields: Record<string, unknown>) => void;

export interface TaskIndexOptions {
  /** Configured schedules, in config order (the first one wins a task id two schedules hold). */
  schedules: readonly string[];
  finishedRetentionMs: number;
  maxExportedTasks: number;
  now: () => number;
  log?: IndexLog;
  /** The config key named in the log line when the cap bites. */
  capKey?: string;
  /**
   * Default 0: how long a new snapshot waits before its rows are rebuilt, once the index holds LARGE_INDEX_ROWS
   * rows or more. The daemon waits a moment so that the poll that made the snapshot hands its notifications over
   * and the mail goes out first: at 100,000 tasks the rebuild is ~150 ms of CPU, which otherwise runs between
   * the steps of the notification path (poll end -> SMTP accept measured 372 ms median without the wait, 74 ms with).
   */
  startDelayMs?: number;
}

interface ScheduleRows {
  rows: Map<string, TaskRow>;
  /** associate_id -> state -> tasks, as of the last applied snapshot. */
  counts: Map<string, Map<string, number>>;
}

/** From this many rows on, a rebuild waits startDelayMs (smaller ones cost a few milliseconds). */
export const LARGE_INDEX_ROWS = 10_000;
/** How often the selection is redone while nothing changes, so finished tasks leave it when their retention ends. */
const RESELECT_INTERVAL_MS = 30_000;
/** Records handled between two looks at the clock. */
const CHECK_EVERY = 512;

export class TaskIndex {
  private readonly bySchedule = new Map<string, ScheduleRows>();
  private readonly pending = new Map<string, Snapshot>();
  private worker: Promise<void> | null = null;
  /** null: every candidate is exported (the cap does not bite). */
  private selection: TaskRow[] | null = null;
  private droppedCount = 0;
  private readonly timer: NodeJS.Timeout;
  /** The wait before a big rebuild, and how to end it early (stop()). */
  private delay: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  private stopped = false;

  constructor(private readonly opts: TaskIndexOptions) {
    for (const schedule of opts.schedules) this.bySchedule.set(schedule, { rows: new Map(), counts: new Map() });
    this.timer = setInterval(() => this.kick(), RESELECT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Queues a schedule's new snapshot; applied in the background, in slices. Unknown schedules are ignored. */
  update(schedule: string, snapshot: Snapshot): void {
    if (!this.bySchedule.has(schedule)) return;
    this.pending.set(schedule, snapshot);
    this.kick();
  }

  /** Resolves once every queued snapshot is applied. */
  async settled(): Promise<void> {
    while (this.worker) await this.worker;
  }

  /** No rebuild runs after this: the wait before one is cut short, a queued one dropped. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.pending.clear();
    if (this.delay) {
      clearTimeout(this.delay.timer);
      this.delay.resolve();
      this.delay = null;
    }
  }

  /** Tasks cut by the cap at the last selection. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * The rows to export now, each with its lines: cheap, synchronous, a consistent list for one scrape.
   * (A row changed since the last selection gets its lines here; the selection that follows keeps them.)
   */
  exported(now: number): ExportedRow[] {
    const withText = (row: TaskRow): ExportedRow => (row.text ? (row as ExportedRow) : { ...row, text: renderTask(row) });
    if (this.selection) return this.selection.filter((row) => row.exportUntil > now).map(withText);
    const out: ExportedRow[] = [];
    const seen = this.bySchedule.size > 1 ? new Set<string>() : null;
    for (const { rows } of this.bySchedule.values()) {
      for (const row of rows.values()) {
        if (row.exportUntil <= now) continue;
        if (seen) {
          // An associate belongs to one schedule; while a config change moves one, its tasks may sit in two snapshots.
          if (seen.has(row.id)) continue;
          seen.add(row.id);
        }
        out.push(withText(row));
      }
    }
    return out;
  }

  /** Tasks per associate and state over every schedule, in a stable order. */
  counts(): Map<string, Map<string, number>> {
    if (this.bySchedule.size === 1) return this.bySchedule.values().next().value!.counts;
    const merged = new Map<string, Map<string, number>>();
    for (const { counts } of this.bySchedule.values()) {
      for (const [associate, perState] of counts) {
        const target = merged.get(associate);
        if (!target) {
          merged.set(associate, new Map(perState));
          continue;
        }
        for (const [state, n] of perState) target.set(state, (target.get(state) ?? 0) + n);
      }
    }
    return merged;
  }

  private kick(): void {
    if (this.worker || this.stopped) return;
    let rows = 0;
    for (const { rows: scheduleRows } of this.bySchedule.values()) rows += scheduleRows.size;
    const delay = rows >= LARGE_INDEX_ROWS ? (this.opts.startDelayMs ?? 0) : 0;
    const start =
      delay > 0
        ? new Promise<void>((resolve) => {
            this.delay = { timer: setTimeout(resolve, delay), resolve };
          })
        : Promise.resolve();
    this.worker = start
      .then(() => {
        this.delay = null;
        return this.stopped ? undefined : this.work();
      })
      .finally(() => {
        this.worker = null;
        if (this.pending.size > 0 && !this.stopped) this.kick();
      });
  }

  private async work(): Promise<void> {
    const slicer = new Slicer();
    for (const [schedule, snapshot] of this.pending) {
      if (this.stopped) return;
      this.pending.delete(schedule);
      await this.apply(this.bySchedule.get(schedule)!, snapshot, slicer);
    }
    if (!this.stopped) await this.select(slicer);
  }

  private async apply(target: ScheduleRows, snapshot: Snapshot, slicer: Slicer): Promise<void> {
    const now = this.opts.now();
    const retention = this.opts.finishedRetentionMs;
    const stalled = new Set<string>();
    const alerting = new Set<string>();
    for (const alert of Object.values(snapshot.alerts)) {
      if (alert.kind === 'superoffice-down') continue;
      alerting.add(alert.subject);
      if (alert.kind === 'stalled') stalled.add(alert.subject);
    }
    const { rows } = target;
    const counts = new Map<string, Map<string, number>>();
    const ids = Object.keys(snapshot.tasks);
    for (let i = 0; i < ids.length; i++) {
      if (i % CHECK_EVERY === 0) await slicer.maybeYield();
      const id = ids[i]!;
      const record = snapshot.tasks[id]!;
      count(counts, record);
      const row = rows.get(id);
      const isStalled = stalled.has(id);
      const isAlerting = alerting.has(id);
      if (row && row.record === record && row.stalled === isStalled && row.alerting === isAlerting) continue;
      const until = exportUntil(record, retention);
      if (until <= now) {
        rows.delete(id);
        continue;
      }
      // Its lines are made by the selection that follows, if it is to be exported.
      rows.set(id, { id, record, stalled: isStalled, alerting: isAlerting, exportUntil: until, text: null });
    }
    let i = 0;
    for (const [id, row] of rows) {
      if (++i % CHECK_EVERY === 0) await slicer.maybeYield();
      if (row.exportUntil <= now || !Object.hasOwn(snapshot.tasks, id)) rows.delete(id);
    }
    target.counts = counts;
  }

  /**
   * Decides which candidates are exported (all of them, or with more than the cap allows the most useful),
   * makes the lines of exported rows that lack them, and drops the lines of rows no longer exported.
   */
  private async select(slicer: Slicer): Promise<void> {
    const now = this.opts.now();
    const cap = this.opts.maxExportedTasks;
    const byClass: TaskRow[][] = [[], [], [], []];
    const seen = this.bySchedule.size > 1 ? new Set<string>() : null;
    let visited = 0;
    for (const { rows } of this.bySchedule.values()) {
      for (const row of rows.values()) {
        if (++visited % CHECK_EVERY === 0) await slicer.maybeYield();
        if (row.exportUntil <= now) continue;
        if (seen) {
          if (seen.has(row.id)) continue;
          seen.add(row.id);
        }
        byClass[exportClass(row)]!.push(row);
      }
    }
    const total = byClass.reduce((sum, rows) => sum + rows.length, 0);
    let chosen: Set<TaskRow> | null = null;
    if (total > cap) {
      chosen = new Set();
      for (const rows of byClass) {
        const room = cap - chosen.size;
        if (room <= 0) break;
        // Within the class that does not fit whole: the most recently changed state first, then the lower id.
        if (rows.length > room) rows.sort((a, b) => b.record.stateSince - a.record.stateSince || Number(a.id) - Number(b.id));
        for (let i = 0; i < Math.min(room, rows.length); i++) chosen.add(rows[i]!);
      }
    }

    const selection: TaskRow[] = [];
    visited = 0;
    for (const { rows } of this.bySchedule.values()) {
      for (const [id, row] of rows) {
        if (++visited % 64 === 0) await slicer.maybeYield();
        const exported = row.exportUntil > now && (chosen === null || chosen.has(row));
        let kept = row;
        if (exported && !row.text) kept = { ...row, text: renderTask(row) };
        else if (!exported && row.text) kept = { ...row, text: null };
        // (Snapshots are applied by this same worker, one after the other: the map does not change under the selection.)
        if (kept !== row) rows.set(id, kept);
        if (exported && chosen !== null) selection.push(kept);
      }
    }
    const wasDropping = this.droppedCount;
    this.selection = chosen === null ? null : selection;
    this.droppedCount = chosen === null ? 0 : total - chosen.size;
    this.logCapChange(wasDropping, total, cap);
  }

  private logCapChange(wasDropping: number, total: number, cap: number): void {
    const log = this.opts.log;
    if (!log || wasDropping > 0 === this.droppedCount > 0) return;
    const key = this.opts.capKey ?? 'maxExportedTasks';
    if (this.droppedCount > 0) {
      log(
        'warn',
        `more tasks qualify for per-task series than ${key} allows: tasks with alerts, then running, queued and recently finished ones are exported first; the rest are left out (batchwatch_task_series_dropped says how many)`,
        {
          qualifying: total,
          [key]: cap,
          dropped: this.droppedCount,
        },
      );
    } else {
      log('info', `every task qualifying for per-task series is exported again (within ${key})`, { qualifying: total, [key]: cap });
    }
  }
}

function count(counts: Map<string, Map<string, number>>, record: TaskRecord): void {
  const associate = String(record.task.associateId);
  let perState = counts.get(associate);
  if (!perState) {
    // Every known state is reported, 0 when no task is in it, so a count falling to zero shows as 0, not as absent.
    perState = new Map(KNOWN_STATES.map((state) => [state, 0]));
    counts.set(associate, perState);
  }
  perState.set(record.task.state, (perState.get(record.task.state) ?? 0) + 1);
}
