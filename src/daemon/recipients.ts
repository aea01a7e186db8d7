import type { Config } from '../config/types.ts';

export function recipientsFor(config: Config, schedule: string): string[] {
  return config.schedules.find((s) => s.name === schedule)?.mailTo ?? config.mail.to;
}
