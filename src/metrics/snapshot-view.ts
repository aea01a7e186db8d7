/**
 * The snapshots /metrics reports from: this process's own copy (shared with the poll path), kept current
 * by its own commits and by a background refresh from Redis, so every replica reports every schedule.
 * A scrape only reads this copy; it never waits for Redis.
 */
import type { Snapshot } from '../core/model.ts';
import type { SnapshotCache } from '../store/snapshot-cache.ts';
import type { CallbackLevel } from '../log-levels.ts';

export interface SnapshotView {
  /** The schedule's snapshot as this process knows it; undefined before it was first read or written. */
  get(schedule: string): Snapshot | undefined;
  /** Called with every new snapshot of a schedule; returns the unsubscribe function. */
  subscribe(listener: (schedule: string, snapshot: Snapshot) => void): () => void;
  /** False while the copy cannot be kept current (Redis unreachable): snapshot series are then left out and counted. */
  current(): boolean;
}

export type RefreshLog = (level: Exclude<CallbackLevel, 'error'>, msg: string, fields?: Record<string, unknown>) => void;

export interface RefresherOptions {
  cache: SnapshotCache;
  /** Brings the cache up to date with Redis for these schedules (cheap when nothing changed); throws when Redis is unreachable. */
  refresh: (schedules: readonly string[]) => Promise<unknown>;
  schedules: readonly string[];
  /** Default 5 s. */
  intervalMs?: number;
  /** Whether the connection the refresh uses is up right now (a drop is noticed before the next refresh fails). */
  connected?: () => boolean;
  log?: RefreshLog;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 5000;

/** Refreshes the schedules' snapshots from Redis every few seconds, so another replica's commits show up here too. */
export class SnapshotRefresher implements SnapshotView {
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastFailed = false;
  private stopped = false;

  constructor(private readonly opts: RefresherOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  }

  get(schedule: string): Snapshot | undefined {
    return this.opts.cache.get(schedule)?.snapshot;
  }

  subscribe(listener: (schedule: string, snapshot: Snapshot) => void): () => void {
    return this.opts.cache.subscribe(listener);
  }

  current(): boolean {
    return !this.lastFailed && (this.opts.connected?.() ?? true);
  }

  /** Starts refreshing; resolves after the first refresh (or `firstWithinMs`, whichever comes first). */
  async start(firstWithinMs = 2000): Promise<void> {
    this.stopped = false;
    const first = this.refreshNow();
    this.timer = setInterval(() => void this.refreshNow(), this.intervalMs);
    this.timer.unref();
    await Promise.race([first, new Promise((resolve) => setTimeout(resolve, firstWithinMs).unref())]);
  }

  /** One refresh now (joins one under way). */
  refreshNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.opts
      .refresh(this.opts.schedules)
      .then(
        () => {
          if (this.lastFailed) this.opts.log?.('info', 'snapshots readable again: metrics current');
          this.lastFailed = false;
        },
        (error: unknown) => {
          if (!this.lastFailed) {
            this.opts.log?.('warn', 'cannot refresh snapshots from Redis: snapshot series are left out of scrapes until it works again', {
              err: error instanceof Error ? error.message : String(error),
            });
          }
          this.lastFailed = true;
        },
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
