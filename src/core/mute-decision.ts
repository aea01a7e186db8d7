/**
 * The notifier's mute step for one event, decided when the event is about to be mailed (so a silence made
 * while a mail waits in the outbox still applies). Pure: what mutes now, the episode's acknowledgement and
 * what the notification log knows about the episode are inputs.
 */
import { factsOfEvent } from './matchers.ts';
import type { Acknowledgement, AlertEvent } from './model.ts';
import { isMutedBy, type Muters, type Muting } from './muting.ts';

/** What the notification log knows about an episode. */
export interface EpisodeLog {
  /** When an event of the episode was last mailed; null if none ever was. */
  toldAt: number | null;
  /** The event that started the episode was muted (recorded as silenced). */
  firstMuted: boolean;
}

export type MuteVerdict =
  /** Mail it. */
  | { action: 'send' }
  /**
   * Not mailed; recorded as silenced. `remember`: a firing event (first, reminder or release) whose alert must
   * be told once nothing mutes it any more, so it goes into the schedule's muted alerts.
   */
  | { action: 'silence'; muters: Muters; remember: boolean; reason: string }
  /** A reminder or release of an acknowledged episode: not mailed, recorded as acknowledged, not counted as silenced. */
  | { action: 'acknowledged'; ack: Acknowledgement }
  /**
   * The episode was mailed after this event came to be, so it has nothing new to tell: a release whose alert was
   * mailed after it was muted, or a first event or reminder whose retried job finds its episode told meanwhile
   * (it was muted and remembered, its silence ended and the release was mailed, before it was recorded as silenced).
   */
  | { action: 'already_told' };

export interface MuteContext {
  muting: Muting;
  /** The acknowledgement of the event's episode, if any. */
  ack: Acknowledgement | undefined;
  episode: EpisodeLog;
}

/**
 * - first event of an episode: its episode told -> dropped; muted -> silenced (remembered); else sent.
 * - reminder or release: acknowledged -> dropped as acknowledged; told since it was made (a reminder) or muted
 *   (a release) -> dropped; muted -> silenced (remembered); else sent.
 * - resolution: muted -> silenced; its episode was muted from the start and never mailed -> silenced (nobody
 *   was told it fired, so nobody is told it resolved; known from the log, or from the acknowledgement when the
 *   log has forgotten a long episode); else sent.
 */
export function muteVerdict(event: AlertEvent, context: MuteContext): MuteVerdict {
  const muters = context.muting.mutersOf(factsOfEvent(event));
  const muted = isMutedBy(muters);
  if (event.kind === 'resolved') {
    if (muted) return { action: 'silence', muters, remember: false, reason: 'a silence or maintenance window matched' };
    if (context.episode.toldAt === null && (context.episode.firstMuted || event.acknowledged?.untold)) {
      return { action: 'silence', muters, remember: false, reason: 'its alert was muted and never mailed' };
    }
    return { action: 'send' };
  }
  const followUp = event.repeat || event.release !== undefined;
  if (followUp && context.ack) return { action: 'acknowledged', ack: context.ack };
  if (toldSince(event, context.episode.toldAt)) return { action: 'already_told' };
  if (muted) return { action: 'silence', muters, remember: true, reason: 'a silence or maintenance window matched' };
  return { action: 'send' };
}

/**
 * Whether the episode was mailed after this firing event came to be. A first event: mailed at all (its own mail
 * is settled by dedup before this step, so another event of the episode told it). A reminder: mailed at or after
 * it was made. A release: mailed at or after its alert was muted.
 */
function toldSince(event: AlertEvent, toldAt: number | null): boolean {
  if (toldAt === null) return false;
  if (event.release) return toldAt >= event.release.mutedAt;
  if (event.repeat) return toldAt >= event.at;
  return true;
}
