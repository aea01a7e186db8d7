/** The notifier as the config describes it (daemon and poll-once alike): its Redis connections, recipients and Message-ID domain. */
import { hostname } from 'node:os';
import type { Config } from '../config/types.ts';
import { logCallback, type Logger } from '../log.ts';
import type { Instruments } from '../metrics/instruments.ts';
import { addressDomain } from '../notify/format.ts';
import { createNotifier, type Notifier } from '../notify/notifier.ts';
import { recipientsFromConfig } from '../notify/stages/route.ts';
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
  });
}
