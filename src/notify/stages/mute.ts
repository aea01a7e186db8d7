/**
 * Stage: silences, maintenance windows and acknowledgements, applied when a notification is about to be mailed
 * (so a silence made while a mail waits in the queue during an SMTP outage still applies). Muted events are
 * recorded in the notification log as silenced (so they are settled, never retried) and, when their alert must
 * be told once the silence ends, remembered in the schedule's muted alerts for the poll to release.
 */
import { episodeOf } from '../../core/event-id.ts';
import type { MaintenanceWindow } from '../../core/maintenance-windows.ts';
import type { Acknowledgement, AlertEvent } from '../../core/model.ts';
import { muteVerdict, type MuteVerdict } from '../../core/mute-decision.ts';
import { describeMuters, muting } from '../../core/muting.ts';
import type { MutedAlert } from '../../core/release.ts';
import type { Silence } from '../../core/silences.ts';
import type { Outcome, Stage } from '../pipeline.ts';
import { withEvents } from '../pipeline.ts';
import type { SentLog, SettledRecord } from '../sent-log.ts';

export interface MuteStageDeps {
  /** Every stored silence (read per notification: silences change while mail waits). */
  silences: () => Promise<readonly Silence[]>;
  windows: readonly MaintenanceWindow[];
  /** The acknowledgements of these episodes of the schedule. */
  acks: (schedule: string, episodes: readonly string[]) => Promise<Record<string, Acknowledgement>>;
  /** Remembers muted alerts of the schedule for release (src/silence/muted-store.ts). */
  remember: (schedule: string, entries: readonly MutedAlert[]) => Promise<void>;
  sentLog: Pick<SentLog, 'episodes' | 'settle'>;
  now?: () => number;
}

export function muteStage(deps: MuteStageDeps): Stage {
  const now = deps.now ?? Date.now;
  return {
    name: 'mute',
    async run(delivery) {
      const events = delivery.batch.events;
      const schedule = delivery.batch.schedule;
      const at = now();
      const mutes = muting(at, await deps.silences(), deps.windows);
      const followUps = events.filter((e) => e.kind !== 'resolved' && (e.repeat || e.release));
      // Every event's episode is looked up: a resolution is dropped when nobody was told it fired, and a firing
      // event when its episode was told after it came to be (see muteVerdict).
      const [acks, episodes] = await Promise.all([
        deps.acks(
          schedule,
          followUps.map((e) => episodeOf(e.id)),
        ),
        deps.sentLog.episodes(events.map((e) => episodeOf(e.id))),
      ]);

      const verdicts = events.map((event) => {
        const episode = episodeOf(event.id);
        return {
          event,
          verdict: muteVerdict(event, {
            muting: mutes,
            ack: acks[episode],
            episode: episodes[episode] ?? { toldAt: null, firstMuted: false },
          }),
        };
      });
      const send = verdicts.filter(({ verdict }) => verdict.action === 'send').map(({ event }) => event);
      if (send.length === events.length) return { next: delivery };

      const remembered: MutedAlert[] = [];
      const settled: { event: AlertEvent; record: SettledRecord }[] = [];
      const outcomes = new Map<string, Outcome>();
      const outcome = (status: 'silenced' | 'acknowledged' | 'already_sent', detail: string, event: AlertEvent) => {
        const key = `${status}\n${detail}`;
        const existing = outcomes.get(key);
        if (existing) existing.events.push(event);
        else outcomes.set(key, status === 'already_sent' ? { status, events: [event] } : { status, events: [event], detail });
      };
      for (const { event, verdict } of verdicts) {
        switch (verdict.action) {
          case 'send':
            break;
          case 'silence': {
            const by = [...verdict.muters.silences.map((s) => s.id), ...verdict.muters.windows.map((w) => `maintenance:${w.name}`)];
            const detail = by.length > 0 ? describeMuters(verdict.muters) : verdict.reason;
            settled.push({ event, record: { status: 'silenced', at, by, reason: verdict.reason } });
            if (verdict.remember) remembered.push(mutedEntry(event, verdict, at));
            outcome('silenced', detail, event);
            break;
          }
          case 'acknowledged':
            settled.push({ event, record: { status: 'acknowledged', at, by: [verdict.ack.author], reason: verdict.ack.comment } });
            outcome('acknowledged', `acknowledged by ${verdict.ack.author}: ${verdict.ack.comment}`, event);
            break;
          case 'already_told':
            outcome('already_sent', '', event);
            break;
        }
      }
      // Remembered before the log says "settled" (two writes: the muted alerts live in the schedule's Cluster slot,
      // the log in the notifier's). A crash in between leaves the event unsettled and its alert remembered; the
      // retried job then mutes it again (same entry), or mails it (its release then finds the episode told and is
      // dropped), or finds the episode told by that release (the silence ended meanwhile) and drops it.
      await deps.remember(schedule, remembered);
      await deps.sentLog.settle(settled);
      return { next: withEvents(delivery, send), settled: [...outcomes.values()] };
    },
  };
}

function mutedEntry(event: AlertEvent, verdict: Extract<MuteVerdict, { action: 'silence' }>, at: number): MutedAlert {
  return {
    kind: event.alertKind,
    subject: event.subject,
    episode: episodeOf(event.id),
    eventId: event.id,
    at,
    silences: verdict.muters.silences.map((s) => s.id),
    windows: verdict.muters.windows.map((w) => w.name),
  };
}
