import type { Rules } from '../core/model.ts';

/** The validated configuration. Durations are milliseconds. */
export interface SuperOfficeConfig {
  /** Installation base, without trailing slash; services live at {url}/Remote/Services85/*.svc */
  url: string;
  applicationToken?: string;
  ticket?: string;
  username?: string;
  password?: string;
  timeout: number;
  associatesPerRequest: number;
  maxConcurrentRequests: number;
  /** IANA zone used for SuperOffice dates that carry no offset. */
  timeZone: string;
}

export interface RedisConfig {
  url: string;
  prefix: string;
}

export type ScheduleTiming = { every: number } | { cron: string; tz?: string };

export interface ScheduleConfig {
  name: string;
  associates: number[];
  timing: ScheduleTiming;
  mailTo?: string[];
}

export interface MailConfig {
  enabled: boolean;
  smtp: string;
  from: string;
  to: string[];
  retryDelay: number;
  retryFor: number;
}

export interface HttpConfig {
  host: string;
  port: number;
}

export interface MetricsConfig {
  /** Tasks with per-task series (superoffice_batch_task_*) at most; the least useful are left out beyond it. */
  maxExportedTasks: number;
}

export interface Config {
  superoffice: SuperOfficeConfig;
  redis: RedisConfig;
  schedules: ScheduleConfig[];
  rules: Rules;
  mail: MailConfig;
  http: HttpConfig;
  metrics: MetricsConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}
