/** The validated configuration's types (durations in milliseconds). */
import type { MaintenanceWindow } from '../core/maintenance-windows.ts';
import type { Rules } from '../core/model.ts';
import type { LogLevel } from '../log-levels.ts';

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
  /** A larger answer ends the call with an error (default DEFAULT_MAX_RESPONSE_BYTES in schema.ts). */
  maxResponseBytes?: number;
  /** `ca`: path of a PEM file with extra CAs to trust for https:// SuperOffice calls (checked at load). */
  tls?: { ca?: string };
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

export interface RedisNode {
  host: string;
  port: number;
}

/** Redis Sentinel: the master called `name`, found through any of `nodes` (the Sentinels). */
export interface RedisSentinelConfig {
  name: string;
  nodes: RedisNode[];
  /** The data nodes' ACL user and password (as redis://user:password@ would give them). */
  username?: string;
  password?: string;
  /** The Sentinels' own password, if they require one. */
  sentinelPassword?: string;
  /** TLS to the Sentinels and the data nodes (what rediss:// is for a single node). */
  tls: boolean;
}

/** Redis Cluster: any of `nodes` is a seed; the client discovers the rest. */
export interface RedisClusterConfig {
  nodes: RedisNode[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** Trust for TLS connections to Redis: a private CA's certificates, read from `caFile` at load. */
export interface RedisTlsConfig {
  caFile: string;
  ca: string;
}

/**
 * Where Redis is: one node by URL, a Sentinel group or a Cluster (mutually exclusive). Every
 * connection batchwatch and BullMQ open is built from this (src/redis/connections.ts).
 */
export type RedisTarget = (
  | { url: string; sentinel?: undefined; cluster?: undefined }
  | { url?: undefined; sentinel: RedisSentinelConfig; cluster?: undefined }
  | { url?: undefined; sentinel?: undefined; cluster: RedisClusterConfig }
) & { tls?: RedisTlsConfig };

export type RedisConfig = RedisTarget & { prefix: string };

export type ScheduleTiming = { every: number } | { cron: string; tz?: string };

interface ScheduleBase {
  name: string;
  timing: ScheduleTiming;
  mailTo?: string[];
}

/** Watches the tasks of the listed associates (GetBatchTaskInfosByAssociates). */
export interface ListedAssociatesSchedule extends ScheduleBase {
  associates: number[];
}

/**
 * `associates: all`: every user task (GetBatchTaskInfosByState with State=All), plus system tasks
 * (GetBatchTaskInfosByAssociates with associate 0) when `includeSystemTasks`. At most one per config.
 */
export interface AllAssociatesSchedule extends ScheduleBase {
  associates: 'all';
  includeSystemTasks: boolean;
  /** Associates listed by the other schedules: their tasks are watched there, so this schedule skips them. */
  listedElsewhere: number[];
}

export type ScheduleConfig = ListedAssociatesSchedule | AllAssociatesSchedule;

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
  /** Bearer token the JSON API's writes (silences, acknowledgements) require; without it they answer 403. A secret. */
  adminToken?: string;
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
  log: { level: LogLevel };
  /** Recurring periods whose matching alerts are not mailed (`maintenance:`); absent when none are configured. */
  maintenance?: MaintenanceWindow[];
}
