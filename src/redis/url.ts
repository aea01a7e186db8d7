/** `redis.url` taken apart once, strictly: what ioredis would otherwise guess at (or crash on) is a clear problem instead. */

export interface RedisUrlParts {
  tls: boolean;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

export type RedisUrlResult = { ok: true; parts: RedisUrlParts } | { ok: false; problem: string };

export const DEFAULT_REDIS_PORT = 6379;
/** Redis allows any number of databases; this only keeps a typo from becoming a huge number. */
const MAX_DB = 1_000_000;

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * Parses redis://[[user]:password@]host[:port][/db] (rediss:// for TLS). Problems never quote the URL:
 * it may carry a password.
 */
export function parseRedisUrl(text: string): RedisUrlResult {
  const fail = (problem: string): RedisUrlResult => ({ ok: false, problem });
  const PORT_PROBLEM = 'the port must be a number from 1 to 65535';
  // The URL parser rejects a port above 65535 as a whole; say which part is wrong.
  const explicitPort = /^rediss?:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(text.trim());
  if (explicitPort && Number(explicitPort[1]) > 65_535) return fail(PORT_PROBLEM);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return fail('must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return fail('must start with redis:// or rediss:// (TLS)');
  if (url.hostname === '') return fail('must name a host, e.g. redis://127.0.0.1:6379');
  const port = url.port === '' ? DEFAULT_REDIS_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return fail(PORT_PROBLEM);
  const username = decode(url.username);
  const password = decode(url.password);
  if (username === null || password === null) {
    return fail(
      'the user or password part is not valid percent-encoding: write a literal "%" as %25 (or put the password in an environment variable and URL-encode it)',
    );
  }
  const path = url.pathname;
  let db = 0;
  if (path !== '' && path !== '/') {
    const match = /^\/(\d+)$/.exec(path);
    if (!match || Number(match[1]) > MAX_DB) return fail('the path must be a database number, e.g. redis://host:6379/0');
    db = Number(match[1]);
  }
  if (url.search !== '') return fail('query options (?...) are not supported; use the redis.* keys of the config');
  if (url.hash !== '') return fail('must not contain "#" (URL-encode it as %23 in a password)');
  const parts: RedisUrlParts = { tls: url.protocol === 'rediss:', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, db };
  if (username) parts.username = username;
  if (password) parts.password = password;
  return { ok: true, parts };
}

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[ipv6]:port", as Sentinel and Cluster node lists are written. */
export function parseHostPort(text: string): { ok: true; node: HostPort } | { ok: false; problem: string } {
  const match = /^(?:\[([^\]]+)\]|([^\s:[\]/@]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) {
    return { ok: false, problem: 'must be host:port with a port from 1 to 65535, e.g. 10.0.0.5:26379 ([::1]:26379 for IPv6)' };
  }
  return { ok: true, node: { host: (match[1] ?? match[2])!, port } };
}

export function formatHostPort(node: HostPort): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}
