import type { Config } from '../config/types.ts';
import { addressDomain } from '../notify/format.ts';

export function recipientsFor(config: Config, schedule: string): string[] {
  return config.schedules.find((s) => s.name === schedule)?.mailTo ?? config.mail.to;
}

/**
 * Message-IDs and thread roots use the sender's domain, not the host name: every replica and every
 * restart (a container gets a new host name) then threads mails about one task together.
 */
export function messageDomain(config: Config): { idDomain?: string } {
  const domain = addressDomain(config.mail.from);
  return domain ? { idDomain: domain } : {};
}
