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
