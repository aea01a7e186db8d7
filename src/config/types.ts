import type { Rules } from '../core/model.ts';

/** The validated configuration. Durations are milliseconds. */
export interface SuperOfficeConfig {
  /** Installation base, without trailing slash; services live at {url}/Remote/Services85/*.svc */
  url: string;
  applicationToken?: string;
  ticket?: string;
  username?: string;
  password?: string;
  /** SuperOffice Online's unattended login (the tenant's system user). */
  systemUser?: SystemUserConfig;
  /** SuperOffice Online tenant status service; a failed poll asks {tenantStatusUrl}/{ContextIdentifier}. */
  tenantStatusUrl?: string;
  timeout: number;
  associatesPerRequest: number;
  maxConcurrentRequests: number;
  /** IANA zone used for SuperOffice dates that carry no offset. */
  timeZone: string;
}

export interface SystemUserConfig {
  /** The tenant's system user token (from the administrator's consent). */
  token: string;
  /** The app's RSA private key as PEM text: given inline, or read from privateKeyFile when the config was loaded. */
  privateKey: string;
  /** Where the key was read from, for messages. */
  privateKeyFile?: string;
  /** Base of PartnerSystemUser/Authenticate, without trailing slash (default: scheme and host of url + /login). */
  loginUrl: string;
  /** The certificate whose key signs SuperOffice's JWTs (file and PEM text); absent: JWTs are decoded, not verified. */
  jwtCertificate?: { file: string; pem: string };
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

export interface Config {
  superoffice: SuperOfficeConfig;
  redis: RedisConfig;
  schedules: ScheduleConfig[];
  rules: Rules;
  mail: MailConfig;
  http: HttpConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}
