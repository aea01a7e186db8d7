/** What a Redis target is and what it looks like right now, in one line (for `check`, logs and errors). */
import { Redis } from 'ioredis';
import type { RedisSentinelConfig, RedisTarget } from '../config/types.ts';
import { redactUrl } from '../redact/config.ts';
import { isCluster, type RedisClient } from './connections.ts';
import { explainRedisError } from './errors.ts';
import { formatHostPort } from './url.ts';

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The configured target, without secrets: "redis://***@host:6379", "sentinel mymaster via a:26379, b:26379", ... */
export function describeTarget(target: RedisTarget): string {
  const tls = (on: boolean) => (on ? ' (TLS)' : '');
  if (target.sentinel)
    return `sentinel ${target.sentinel.name} via ${target.sentinel.nodes.map(formatHostPort).join(', ')}${tls(target.sentinel.tls)}`;
  if (target.cluster) return `cluster via ${target.cluster.nodes.map(formatHostPort).join(', ')}${tls(target.cluster.tls)}`;
  return redactUrl(target.url);
}

/** Asks the Sentinels, one after the other, for the master's address and how many replicas and Sentinels they know. */
async function askSentinels(sentinel: RedisSentinelConfig, target: RedisTarget): Promise<string> {
  const errors: string[] = [];
  for (const node of sentinel.nodes) {
    const client = new Redis({
      host: node.host,
      port: node.port,
      ...(sentinel.sentinelPassword ? { password: sentinel.sentinelPassword } : {}),
      ...(sentinel.tls ? { tls: target.tls ? { ca: target.tls.ca } : {} } : {}),
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const master = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.name)) as [string, string] | null;
      if (!master) throw new Error(`this Sentinel does not know a master called "${sentinel.name}" (redis.sentinel.name)`);
      const replicas = (await client.call('SENTINEL', 'REPLICAS', sentinel.name)) as unknown[];
      const others = (await client.call('SENTINEL', 'SENTINELS', sentinel.name)) as unknown[];
      return `sentinel ${sentinel.name} → master ${formatHostPort({ host: master[0], port: Number(master[1]) })}, ${plural(replicas.length, 'replica')}, ${plural(others.length + 1, 'sentinel')}`;
    } catch (error) {
      errors.push(`${formatHostPort(node)}: ${explainRedisError(error)}`);
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`no Sentinel answered (${errors.join('; ')})`);
}

/**
 * The topology as the client sees it once connected: the Sentinels' current master, or the Cluster's masters,
 * replicas and state. A single node is described by its URL.
 */
export async function describeTopology(client: RedisClient, target: RedisTarget): Promise<string> {
  if (target.sentinel) return askSentinels(target.sentinel, target);
  if (isCluster(client)) {
    const masters = client.nodes('master').map((node) => formatHostPort({ host: node.options.host ?? '?', port: node.options.port ?? 0 }));
    const replicas = client.nodes('slave').length;
    const info = String(await client.call('CLUSTER', 'INFO'));
    const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? '?';
    const slots = /cluster_slots_ok:(\d+)/.exec(info)?.[1] ?? '?';
    return `cluster of ${plural(masters.length, 'master')} (${masters.sort().join(', ')}) and ${plural(replicas, 'replica')}, cluster_state ${state}, ${slots}/16384 slots served`;
  }
  return describeTarget(target);
}
