import { hostname } from 'node:os';
import type { Config } from '../config/types.ts';
import { logCallback, type Logger } from '../log.ts';
import type { Instruments } from '../metrics/instruments.ts';
import { createNotifier, type Notifier } from '../notify/queue.ts';
import { messageDomain, recipientsFor } from './recipients.ts';

/** The notifier as the config describes it (daemon and poll-once alike). */
export function notifierFor(config: Config, log: Logger, instruments?: Instruments): Notifier {
  return createNotifier({
    connection: config.redis,
    prefix: config.redis.prefix,
    mail: config.mail,
    recipientsFor: (schedule) => recipientsFor(config, schedule),
    hostname: hostname(),
    ...messageDomain(config),
    ...(instruments ? { instruments } : {}),
    log: logCallback(log),
  });
}
