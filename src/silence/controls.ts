/**
 * What operators do with silences and acknowledgements, for the CLI, the JSON API and the status page:
 * add, list and expire silences, acknowledge a task's active alerts, and tell what mutes each active alert.
 */
import { alertKey } from '../core/event-id.ts';
import { windowInForce, nextStart, type MaintenanceWindow } from '../core/maintenance-windows.ts';
import type { Acknowledgement, ActiveAlert, Snapshot } from '../core/model.ts';
import { muting } from '../core/muting.ts';
import { silenceState, type Silence, type SilenceState } from '../core/silences.ts';
import type { BatchTaskInfo } from '../core/task.ts';
import type { RedisClient } from '../redis/connections.ts';
import { AckStore } from './ack-store.ts';
import { MutedStore } from './muted-store.ts';
import { ackFromRequest, expiringAuthor, silenceFromRequest, RequestError, type RequestContext } from './requests.ts';
import { SilenceStore, type UnreadableSilenceLog } from './silence-store.ts';

export type SilenceView = Silence & { state: SilenceState };

export interface WindowView {
  name: string;
  cron: string;
  tz: string;
  duration: number;
  match: MaintenanceWindow['match'];
  /** The occurrence in force now, if any. */
  inForce: { startsAt: number; endsAt: number } | null;
  nextStart: number | null;
}

/** What mutes an alert now: silences, and maintenance windows (id `maintenance:NAME`, author `config`). */
export interface MutedBy {
  kind: 'silence' | 'maintenance';
  id: string;
  comment: string;
  author: string;
  endsAt: number;
}

export interface AlertAnnotation {
  silencedBy: MutedBy[];
  acknowledged: Acknowledgement | null;
  /** The notifier muted this alert and has not mailed it since (it is mailed once nothing mutes it). */
  mutedSince: number | null;
}

/** An active alert as the status page and the API see it. */
export interface AlertInput {
  schedule: string;
  alert: ActiveAlert;
  task?: BatchTaskInfo | undefined;
}

export interface AlertView extends AlertInput, AlertAnnotation {}

/** The provider the status page calls (src/status): silences for its list, and per active alert who mutes or acknowledged it. */
export interface StatusControls {
  silences(now: number): Promise<SilenceView[]>;
  windows(now: number): WindowView[];
  /** By episode id (ActiveAlert.eventId). */
  annotate(alerts: readonly AlertInput[], now: number): Promise<Map<string, AlertAnnotation>>;
}

export interface AckResult {
  schedule: string;
  kind: ActiveAlert['kind'];
  episode: string;
}

export class NoActiveAlertError extends RequestError {
  constructor(taskId: number, schedule: string | undefined) {
    const problem = `task ${taskId} has no active alert${schedule ? ` in schedule ${schedule}` : ''}; only firing alerts can be acknowledged`;
    super('taskId', problem, problem);
  }
}

export interface SilenceControlsDeps {
  redis: RedisClient;
  prefix: string;
  schedules: readonly string[];
  windows: readonly MaintenanceWindow[];
  /** The schedules' current snapshots (the daemon: its in-process copy; the CLI: read from Redis). */
  snapshots: () => Promise<readonly Snapshot[]>;
  now?: () => number;
  /** Where a stored silence that cannot be read is reported (once per id). */
  log?: UnreadableSilenceLog;
}

export class SilenceControls implements StatusControls {
  readonly store: SilenceStore;
  private readonly acks: AckStore;
  private readonly muted: MutedStore;
  private readonly now: () => number;

  constructor(private readonly deps: SilenceControlsDeps) {
    this.now = deps.now ?? Date.now;
    this.store = new SilenceStore(deps.redis, deps.prefix, this.now, deps.log);
    this.acks = new AckStore(deps.redis, deps.prefix);
    this.muted = new MutedStore(deps.redis, deps.prefix);
  }

  requestContext(defaultAuthor: string | undefined): RequestContext {
    return { now: this.now(), schedules: this.deps.schedules, ...(defaultAuthor !== undefined ? { defaultAuthor } : {}) };
  }

  /** Validates (RequestError naming the field) and stores a new silence; without a default author the request must name one. */
  async addSilence(request: unknown, defaultAuthor?: string): Promise<SilenceView> {
    const silence = await this.store.add(silenceFromRequest(request, this.requestContext(defaultAuthor)));
    return { ...silence, state: silenceState(silence, this.now()) };
  }

  /** Validates `by` (RequestError naming author; absent or blank: `defaultAuthor`) and ends the silence now. */
  async expireSilence(id: string, by: string | undefined, defaultAuthor: string): Promise<SilenceView> {
    const silence = await this.store.expire(id, expiringAuthor(by, this.requestContext(defaultAuthor)));
    return { ...silence, state: silenceState(silence, this.now()) };
  }

  async silences(now = this.now()): Promise<SilenceView[]> {
    return (await this.store.all()).map((silence) => ({ ...silence, state: silenceState(silence, now) }));
  }

  windows(now = this.now()): WindowView[] {
    return this.deps.windows.map((window) => ({
      name: window.name,
      cron: window.cron,
      tz: window.tz,
      duration: window.duration,
      match: window.match,
      inForce: windowInForce(window, now),
      nextStart: nextStart(window, now),
    }));
  }

  /**
   * Acknowledges every active alert of the task (RequestError when it has none). An alert still muted since its
   * first event (its muted entry names that event) is acknowledged as untold: its resolution is not mailed.
   */
  async acknowledge(request: unknown, defaultAuthor?: string): Promise<AckResult[]> {
    const ack = ackFromRequest(request, this.requestContext(defaultAuthor));
    const at = this.now();
    const found: AckResult[] = [];
    for (const snapshot of await this.deps.snapshots()) {
      if (ack.schedule !== undefined && snapshot.schedule !== ack.schedule) continue;
      const alerts = Object.values(snapshot.alerts).filter(
        (alert) => alert.kind !== 'superoffice-down' && alert.subject === String(ack.taskId),
      );
      const muted = alerts.length > 0 ? (await this.muted.all(snapshot.schedule)).entries : {};
      for (const alert of alerts) {
        const entry = muted[alertKey(alert.kind, alert.subject)];
        const untold = entry !== undefined && entry.episode === alert.eventId && entry.eventId === alert.eventId;
        await this.acks.put(snapshot.schedule, alert.eventId, {
          author: ack.author,
          comment: ack.comment,
          at,
          kind: alert.kind,
          subject: alert.subject,
          ...(untold ? { untold: true } : {}),
        });
        found.push({ schedule: snapshot.schedule, kind: alert.kind, episode: alert.eventId });
      }
    }
    if (found.length === 0) throw new NoActiveAlertError(ack.taskId, ack.schedule);
    return found;
  }

  /** Every active alert of every schedule, with what mutes it and who acknowledged it. */
  async alerts(now = this.now()): Promise<AlertView[]> {
    const inputs: AlertInput[] = [];
    for (const snapshot of await this.deps.snapshots()) {
      for (const alert of Object.values(snapshot.alerts)) {
        inputs.push({
          schedule: snapshot.schedule,
          alert,
          task: alert.kind === 'superoffice-down' ? undefined : snapshot.tasks[alert.subject]?.task,
        });
      }
    }
    const annotations = await this.annotate(inputs, now);
    return inputs.map((input) => ({ ...input, ...annotations.get(input.alert.eventId)! }));
  }

  async annotate(alerts: readonly AlertInput[], now = this.now()): Promise<Map<string, AlertAnnotation>> {
    const out = new Map<string, AlertAnnotation>();
    if (alerts.length === 0) return out;
    // Only the entries of these alerts are read (HMGET), so annotating the rows a page shows costs what they cost.
    const schedules = [...new Set(alerts.map((a) => a.schedule))];
    const indexOf = new Map(schedules.map((schedule, i) => [schedule, i]));
    const ofSchedule = schedules.map((schedule) => alerts.filter((a) => a.schedule === schedule).map((a) => a.alert));
    const [silences, acksBySchedule, mutedBySchedule] = await Promise.all([
      this.store.all(),
      Promise.all(
        schedules.map((schedule, i) =>
          this.acks.some(
            schedule,
            ofSchedule[i]!.map((a) => a.eventId),
          ),
        ),
      ),
      Promise.all(
        schedules.map((schedule, i) =>
          this.muted.some(
            schedule,
            ofSchedule[i]!.map((a) => alertKey(a.kind, a.subject)),
          ),
        ),
      ),
    ]);
    const mutes = muting(now, silences, this.deps.windows);
    for (const { schedule, alert, task } of alerts) {
      const index = indexOf.get(schedule)!;
      const muters = mutes.mutersOf({ schedule, kind: alert.kind, task: alert.kind === 'superoffice-down' ? undefined : task });
      const ack = acksBySchedule[index]?.[alert.eventId];
      const muted = mutedBySchedule[index]?.[alertKey(alert.kind, alert.subject)];
      out.set(alert.eventId, {
        silencedBy: [
          ...muters.silences.map((s): MutedBy => ({ kind: 'silence', id: s.id, comment: s.comment, author: s.author, endsAt: s.endsAt })),
          ...muters.windows.map(
            (w): MutedBy => ({
              kind: 'maintenance',
              id: `maintenance:${w.name}`,
              comment: `maintenance window ${w.name}`,
              author: 'config',
              endsAt: w.endsAt,
            }),
          ),
        ],
        acknowledged: ack ? { author: ack.author, comment: ack.comment, at: ack.at } : null,
        mutedSince: muted && muted.episode === alert.eventId ? muted.at : null,
      });
    }
    return out;
  }
}
