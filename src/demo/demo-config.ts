/** The demo's config: short intervals so the story (a failure, a stall, a task stuck in New) shows within a minute. */
export function demoConfigYaml(opts: {
  simulatorUrl: string;
  redisUrl: string;
  prefix: string;
  smtpPort: number;
  httpPort: number;
}): string {
  return `
superoffice:
  url: ${opts.simulatorUrl}
  username: demo
  password: demo
  timeout: 5s
redis:
  url: ${opts.redisUrl}
  prefix: ${opts.prefix}
schedules:
  - name: demo
    associates: [101, 102]
    every: 5s
rules:
  stallAfter: 20s
  queuedTimeout: 30s
  firstSeenWindow: 1h
  unreachableAfter: 3
  repeatInterval: 0s
  sendResolved: true
mail:
  enabled: true
  smtp: smtp://127.0.0.1:${opts.smtpPort}
  from: "batchwatch demo <batchwatch@localhost>"
  to: [ops@example.com]
  retryDelay: 2s
  retryFor: 10m
http:
  host: 127.0.0.1
  port: ${opts.httpPort}
log:
  level: warn
`;
}
