/**
 * The status page's adapter: gathers what the page shows (the in-process snapshot copy, silences and
 * acknowledgements from Redis, the notification log) on request, never on the poll path. One gathering is
 * shared by concurrent requests and reused for `cacheMs`, so a wall screen and many tabs cost Redis a few
 * reads every couple of seconds. A part that cannot be read within `timeoutMs` is left out and named. The rows to
 * show are picked once per snapshot version and only those are annotated, so a request's work is bounded by
 * the rows shown, not by the number of alerts or tasks.
 */
import type { ScheduleTiming } from '../config/types.ts';
import type { SnapshotView } from '../metrics/snapshot-view.ts';
import { withTimeout } from '../metrics/timeout.ts';
import type { HistoryEntry } from '../notify/history.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import type { StatusControls } from '../silence/controls.ts';
import type { Snapshot } from '../core/model.ts';
import {
  buildStatus,
  DEFAULT_STATUS_LIMITS,
  selectRows,
  type StatusInput,
  type StatusLimits,
  type StatusSelection,
  type StatusView,
} from './model.ts';

export interface StatusCollectorDeps {
  schedules: readonly { name: string; timing: ScheduleTiming }[];
  /** The snapshots as this process knows them (kept current in the background; reading them costs no Redis call). */
  snapshots: Pick<SnapshotView, 'get' | 'current'>;
  controls: StatusControls;
  history: { recent(limit: number): Promise<HistoryEntry[]> };
  limits?: StatusLimits;
  /** How long one gathering is reused. Default 2 s. */
  cacheMs?: number;
  /** How long one Redis read may take before that part is shown as unreadable. Default 2 s. */
  timeoutMs?: number;
  now?: () => number;
}

export const DEFAULT_STATUS_CACHE_MS = 2000;
export const DEFAULT_STATUS_TIMEOUT_MS = 2000;

const reason = (error: unknown): string => scrubSecrets(error instanceof Error ? error.message : String(error));

export class StatusCollector {
  private cached: { at: number; view: StatusView } | null = null;
  private running: Promise<StatusView> | null = null;
  /** The last selection and the snapshots (object and version) it was picked from. */
  private picked: { snapshots: (Snapshot | undefined)[]; versions: number[]; selection: StatusSelection } | null = null;
  /** How many times rows were picked from the snapshots (not reused): for tests. */
  selections = 0;
  private readonly now: () => number;

  constructor(private readonly deps: StatusCollectorDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The current view: a recent one when there is one, else gathered now (joining a gathering under way). */
  view(): Promise<StatusView> {
    const cacheMs = this.deps.cacheMs ?? DEFAULT_STATUS_CACHE_MS;
    if (this.cached && this.now() - this.cached.at < cacheMs) return Promise.resolve(this.cached.view);
    this.running ??= this.gather()
      .then((view) => {
        this.cached = { at: view.generatedAt, view };
        return view;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** The rows to show: reused while every snapshot is the same object at the same version. */
  private select(snapshots: (Snapshot | undefined)[], limits: StatusLimits): StatusSelection {
    const last = this.picked;
    if (
      last &&
      last.snapshots.length === snapshots.length &&
      snapshots.every((s, i) => s === last.snapshots[i] && (s?.version ?? -1) === last.versions[i])
    )
      return last.selection;
    const selection = selectRows(snapshots, limits);
    this.selections++;
    this.picked = { snapshots, versions: snapshots.map((s) => s?.version ?? -1), selection };
    return selection;
  }

  private async gather(): Promise<StatusView> {
    const now = this.now();
    const limits = this.deps.limits ?? DEFAULT_STATUS_LIMITS;
    const timeoutMs = this.deps.timeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS;
    const schedules = this.deps.schedules.map((s) => ({ name: s.name, timing: s.timing, snapshot: this.deps.snapshots.get(s.name) }));
    const selection = this.select(
      schedules.map((s) => s.snapshot),
      limits,
    );
    const problems: string[] = [];
    const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await withTimeout(read(), timeoutMs, what);
      } catch (error) {
        problems.push(`${what} could not be read: ${reason(error)}`);
        return null;
      }
    };
    const [annotations, silences, notifications] = await Promise.all([
      attempt('silences and acknowledgements of the alerts', () => this.deps.controls.annotate(selection.alerts.items, now)),
      attempt('silences', () => this.deps.controls.silences(now)),
      attempt('the notification log', () => this.deps.history.recent(limits.notifications)),
    ]);
    const input: StatusInput = {
      now,
      schedules,
      snapshotsCurrent: this.deps.snapshots.current(),
      selection,
      annotations,
      silences,
      windows: this.deps.controls.windows(now),
      notifications,
      problems,
    };
    return buildStatus(input, limits);
  }
}
