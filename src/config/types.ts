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
  /** smtp[s]://[user[:password]@]host[:port][?options], validated at load time (src/config/smtp-url.ts). */
  smtp: string;
  from: string;
  to: string[];
  retryDelay: number;
  retryFor: number;
  /** SMTP AUTH XOAUTH2 with a token from an OAuth2 token endpoint, instead of a password. */
  oauth2?: MailOAuth2Config;
  tls?: MailTlsConfig;
}

/** Exactly one of scope (client-credentials grant) and refreshToken (refresh-token grant). */
export interface MailOAuth2Config {
  /** The mailbox to log in as. */
  user: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  refreshToken?: string;
}

export interface MailTlsConfig {
  /** Path of a PEM file with the CA certificate(s) that sign the SMTP server's certificate. */
  ca: string;
}

export interface HttpConfig {
  host: string;
  port: number;
}

export interface Config {
  superoffice: SuperOfficeConfig;
  redis: RedisConfig;
  schedules: ScheduleConfig[];
  rules: Rules;
  mail: MailConfig;
  http: HttpConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}
