import type { Config } from './types.ts';

const HIDDEN = '***';

/** The password in a URL's userinfo replaced by ***; the whole value hidden if it does not parse. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.includes('@') ? HIDDEN : text;
  }
  if (url.password === '') return text;
  url.password = 'redacted';
  return url.toString().replace(':redacted@', `:${HIDDEN}@`);
}

/** The config as it may be logged or printed by `check`: secrets replaced by "***". */
export function redactedConfig(config: Config): unknown {
  const superoffice = { ...config.superoffice };
  for (const key of ['password', 'ticket', 'applicationToken'] as const) {
    if (superoffice[key] !== undefined) superoffice[key] = HIDDEN;
  }
  return {
    ...config,
    superoffice: { ...superoffice, url: redactUrl(superoffice.url) },
    redis: { ...config.redis, url: redactUrl(config.redis.url) },
    schedules: config.schedules.map((schedule) => ({ ...schedule })),
    rules: { ...config.rules, tasks: config.rules.tasks.map((task) => ({ ...task })) },
    mail: { ...config.mail, smtp: redactUrl(config.mail.smtp) },
  };
}
