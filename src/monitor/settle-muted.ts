/** The silences part of a poll: acknowledgements for evaluate(), release of muted alerts whose silence ended, and what the commit settles. */
import type { Acknowledgements } from '../core/evaluate.ts';
import { compareEvents } from '../core/events.ts';
import type { Acknowledgement, AlertEvent, Evaluation, Snapshot } from '../core/model.ts';
import { muting } from '../core/muting.ts';
import { releaseMuted } from '../core/release.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import { DEFAULT_ENDED_ACK_KEEP_MS } from '../silence/ack-store.ts';
import type { StoredAck } from '../silence/codec.ts';
import type { CommitCleanup, LoadedState } from '../store/snapshot-store.ts';
import type { PollDeps } from './poll.ts';

export function acknowledgements(stored: Record<string, StoredAck>): Acknowledgements {
  const acks: Record<string, Acknowledgement> = {};
  for (const [episode, ack] of Object.entries(stored))
    acks[episode] = { author: ack.author, comment: ack.comment, at: ack.at, ...(ack.untold ? { untold: true } : {}) };
  return acks;
}

export interface Settled {
  next: Snapshot;
  events: AlertEvent[];
  releases: AlertEvent[];
  cleanup: CommitCleanup;
}

/**
 * Muted alerts whose silence is over are released into this poll's batch (committed with the snapshot, so
 * exactly once), entries of alerts that are gone are dropped, and acknowledgements of episodes that ended leave
 * the schedule's acknowledgements (kept aside for ackKeepMs, for reminders still in the notifier's queue).
 * Silences are read only when something is muted; if they cannot be read, muted alerts wait for the next poll.
 */
export async function settleMuted(
  schedule: string,
  state: LoadedState,
  evaluation: Evaluation,
  acks: Acknowledgements,
  now: number,
  deps: PollDeps,
): Promise<Settled> {
  let { next, events } = evaluation;
  let releases: AlertEvent[] = [];
  const muted: (readonly [string, string])[] = [];
  const mutedKeys = Object.keys(state.muted.raw);
  if (mutedKeys.length > 0 && deps.silences) {
    try {
      const silences = await deps.silences();
      const result = releaseMuted({ next, events, muted: state.muted.entries, muting: muting(now, silences, deps.windows ?? []), acks });
      next = result.next;
      releases = result.releases;
      events = [...events, ...releases].sort(compareEvents);
      const unreadable = mutedKeys.filter((key) => !(key in state.muted.entries));
      for (const key of [...result.done, ...unreadable]) muted.push([key, state.muted.raw[key]!]);
    } catch (error) {
      deps.log.warn(
        { schedule, err: scrubSecrets(error instanceof Error ? error.message : String(error)) },
        'could not read the silences; muted alerts are looked at again at the next poll',
      );
    }
  }
  const active = new Set(Object.values(next.alerts).map((alert) => alert.eventId));
  const endedAcks = state.acks.keys.filter((episode) => !active.has(episode) || !(episode in state.acks.entries));
  return { next, events, releases, cleanup: { muted, acks: endedAcks, ackKeepMs: deps.ackKeepMs ?? DEFAULT_ENDED_ACK_KEEP_MS } };
}
