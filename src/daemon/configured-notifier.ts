/** The notifier as the config describes it (daemon and poll-once alike): its Redis connections, recipients and Message-ID domain. */
import { hostname } from 'node:os';
import type { Config } from '../config/types.ts';
import { logCallback, type Logger } from '../log.ts';
import type { Instruments } from '../metrics/instruments.ts';
import { addressDomain } from '../notify/format.ts';
import type { MaintenanceWindow } from '../core/maintenance-windows.ts';
import { createNotifier, type Notifier, type NotifierDeps } from '../notify/notifier.ts';
import { muteStage } from '../notify/stages/mute.ts';
import { recipientsFromConfig } from '../notify/stages/route.ts';
import { AckStore } from '../silence/ack-store.ts';
import { MutedStore } from '../silence/muted-store.ts';
import { SilenceStore } from '../silence/silence-store.ts';
import { createNotifierRedis } from './redis-connections.ts';

/**
 * Message-IDs and thread roots use the sender's domain, not the host name: every replica and every
 * restart (a container gets a new host name) then threads mails about one task together.
 */
export function messageDomain(config: Config): { idDomain?: string } {
  const domain = addressDomain(config.mail.from);
  return domain ? { idDomain: domain } : {};
}

export function configuredNotifier(config: Config, log: Logger, instruments?: Instruments): Notifier {
  return createNotifier({
    connect: (role) => createNotifierRedis(config.redis, role),
    prefix: config.redis.prefix,
    mail: config.mail,
    recipientsFor: recipientsFromConfig(config.schedules, config.mail.to),
    hostname: hostname(),
    ...messageDomain(config),
    ...(instruments ? { instruments } : {}),
    log: logCallback(log),
    mute: muteFor(config.redis.prefix, config.maintenance ?? []),
  });
}

/** The mute stage on the notifier's notification-log connection: silences and acknowledgements from Redis, windows from the config. */
export function muteFor(prefix: string, windows: readonly MaintenanceWindow[], now?: () => number): NonNullable<NotifierDeps['mute']> {
  return ({ redis, sentLog }) => {
    const silences = new SilenceStore(redis, prefix);
    const acks = new AckStore(redis, prefix);
    const muted = new MutedStore(redis, prefix);
    return muteStage({
      silences: () => silences.all(),
      windows,
      acks: (schedule, episodes) => acks.forEpisodes(schedule, episodes),
      remember: (schedule, entries) => muted.remember(schedule, entries),
      sentLog,
      ...(now ? { now } : {}),
    });
  };
}
