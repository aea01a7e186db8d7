// Real Redis topologies for tests, from the redis-server binary on loopback ports: a Cluster and a Sentinel group.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../../src/runtime/private-redis.ts';

const run = promisify(execFile);

/**
 * A replica's first sync starts at once (Redis waits 5 s by default to batch replicas), and the master pings
 * its replicas every second (a Cluster lists a replica only once its replication offset moved).
 */
const FAST_SYNC = ['--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1'];

/** Waits until `check` holds; throws naming `what` after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** One short-lived connection for an admin command, closed afterwards. */
export async function adminCall<T>(port: number, call: (redis: Redis) => Promise<T>, password?: string): Promise<T> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    ...(password ? { password } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await call(redis);
  } finally {
    redis.disconnect();
  }
}

/** Starts servers concurrently; if one fails, the others are closed before the error is thrown. */
async function startAll(starts: (() => Promise<PrivateRedis>)[]): Promise<PrivateRedis[]> {
  const results = await Promise.allSettled(starts.map((start) => start()));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((server) => server.close()));
    throw failed.reason;
  }
  return started;
}

async function closeAll(servers: PrivateRedis[]): Promise<void> {
  await Promise.all(servers.map((server) => server.close().catch(() => undefined)));
}

export interface TestCluster {
  /** Every node, masters first as created. */
  readonly nodes: PrivateRedis[];
  /** "127.0.0.1:PORT" of every node, for `redis.cluster.nodes`. */
  readonly seeds: string[];
  /** The port of the node that currently serves `key`'s slot as master. */
  masterPortFor(key: string): Promise<number>;
  /** The port of a replica of the master that serves `key`'s slot. */
  replicaPortFor(key: string): Promise<number>;
  /** CLUSTER FAILOVER on a replica of `key`'s master; resolves once that replica is master of the slot. */
  failover(key: string): Promise<{ from: number; to: number }>;
  close(): Promise<void>;
}

interface SlotOwner {
  master: number;
  replicas: number[];
}

/** CLUSTER SHARDS-free slot lookup that works on Redis 7.0: CLUSTER KEYSLOT + CLUSTER SLOTS. */
async function slotOwner(port: number, key: string): Promise<SlotOwner> {
  return adminCall(port, async (redis) => {
    const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, ...[string, number, ...unknown[]][]][];
    for (const [first, last, master, ...replicas] of ranges) {
      if (master && slot >= first && slot <= last) return { master: Number(master[1]), replicas: replicas.map((r) => Number(r[1])) };
    }
    throw new Error(`slot ${slot} of ${key} is not served`);
  });
}

/**
 * A Redis Cluster of `masters` masters with `replicas` replicas each, made with `redis-cli --cluster create`.
 * A short node timeout makes an automatic failover (after a master dies) take about a second.
 */
export async function startTestCluster(options: { masters?: number; replicas?: number } = {}): Promise<TestCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const nodes = await startAll(
    Array.from(
      { length: masters * (1 + replicas) },
      () => () =>
        startPrivateRedis({
          args: [...FAST_SYNC, '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0'],
        }),
    ),
  );
  const seeds = nodes.map((node) => `127.0.0.1:${node.port}`);
  try {
    await run('redis-cli', ['--cluster', 'create', ...seeds, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
    await until(
      async () => {
        for (const node of nodes) {
          const info = await adminCall(node.port, (redis) => redis.call('CLUSTER', 'INFO') as Promise<string>);
          if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${nodes.length}\\b`).test(info)) return false;
        }
        // Every replica has finished its first sync, so a failover loses nothing.
        const owners = await adminCall(nodes[0]!.port, (redis) => redis.call('CLUSTER', 'SLOTS') as Promise<unknown[][]>);
        return owners.every((range) => range.length === 3 + replicas);
      },
      20_000,
      'the cluster to be ready',
    );
  } catch (error) {
    await closeAll(nodes);
    throw error;
  }
  const anyPort = async (): Promise<number> => {
    for (const node of nodes) {
      if (await adminCall(node.port, (redis) => redis.ping()).catch(() => null)) return node.port;
    }
    throw new Error('no cluster node answers');
  };
  return {
    nodes,
    seeds,
    async masterPortFor(key) {
      return (await slotOwner(await anyPort(), key)).master;
    },
    async replicaPortFor(key) {
      const owner = await slotOwner(await anyPort(), key);
      const replica = owner.replicas[0];
      if (replica === undefined) throw new Error(`the master of ${key} has no replica`);
      return replica;
    },
    async failover(key) {
      const owner = await slotOwner(await anyPort(), key);
      const to = owner.replicas[0];
      if (to === undefined) throw new Error(`the master of ${key} has no replica`);
      await adminCall(to, (redis) => redis.call('CLUSTER', 'FAILOVER'));
      await until(async () => (await slotOwner(to, key)).master === to, 15_000, `replica ${to} to take over ${key}`);
      return { from: owner.master, to };
    },
    close: () => closeAll(nodes),
  };
}

export interface TestSentinelGroup {
  readonly name: string;
  /** The data nodes: [initial master, replica]. */
  readonly servers: PrivateRedis[];
  readonly sentinels: PrivateRedis[];
  /** "127.0.0.1:PORT" of every Sentinel, for `redis.sentinel.nodes`. */
  readonly sentinelNodes: string[];
  /** The master's port as the Sentinels report it. */
  masterPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once every Sentinel names the new master. */
  failover(): Promise<{ from: number; to: number }>;
  /** Waits until every Sentinel names a master other than `port` (after the master was stopped). */
  waitForNewMaster(port: number, timeoutMs?: number): Promise<number>;
  /**
   * Waits until every running data node other than the master replicates from it, in sync. After a failover
   * Sentinel turns the old master into a replica only after about 10 s; until then it must not be relied on.
   */
  replicasInSync(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A master, one replica and three Sentinels (quorum 2) watching them as `name`. Short timeouts make a
 * failover after a master dies take a few seconds.
 */
export async function startTestSentinelGroup(
  options: { name?: string; password?: string; args?: string[] } = {},
): Promise<TestSentinelGroup> {
  const name = options.name ?? 'mymaster';
  const auth = [
    ...FAST_SYNC,
    ...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []),
    ...(options.args ?? []),
  ];
  const master = await startPrivateRedis({ args: auth });
  const servers = [master];
  const sentinels: PrivateRedis[] = [];
  try {
    servers.push(await startPrivateRedis({ args: [...auth, '--replicaof', '127.0.0.1', String(master.port)] }));
    await until(
      async () => /master_link_status:up/.test(await adminCall(servers[1]!.port, (redis) => redis.info('replication'), options.password)),
      10_000,
      'the replica to sync',
    );
    const config = [
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      ...(options.password ? [`sentinel auth-pass ${name} ${options.password}`] : []),
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 1`,
    ];
    sentinels.push(...(await startAll([0, 1, 2].map(() => () => startPrivateRedis({ sentinel: config })))));
    // Every Sentinel has found the replica and the other Sentinels, so any of them can lead a failover.
    await until(
      async () => {
        for (const sentinel of sentinels) {
          const state = (await adminCall(sentinel.port, (redis) => redis.call('SENTINEL', 'MASTER', name))) as string[];
          const field = (key: string) => Number(state[state.indexOf(key) + 1]);
          if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
        }
        return true;
      },
      20_000,
      'the Sentinels to discover each other and the replica',
    );
  } catch (error) {
    await closeAll([...sentinels, ...servers]);
    throw error;
  }

  const masterPortBy = async (sentinel: PrivateRedis): Promise<number> => {
    const [, port] = (await adminCall(sentinel.port, (redis) => redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as [
      string,
      string,
    ];
    return Number(port);
  };
  const waitForNewMaster = async (port: number, timeoutMs = 20_000): Promise<number> => {
    let next = port;
    await until(
      async () => {
        const seen = await Promise.all(sentinels.map(masterPortBy));
        next = seen[0]!;
        return seen.every((p) => p === next && p !== port);
      },
      timeoutMs,
      `the Sentinels to name a master other than ${port}`,
    );
    return next;
  };
  return {
    name,
    servers,
    sentinels,
    sentinelNodes: sentinels.map((s) => `127.0.0.1:${s.port}`),
    masterPort: () => masterPortBy(sentinels[0]!),
    async failover() {
      const from = await masterPortBy(sentinels[0]!);
      await adminCall(sentinels[0]!.port, (redis) => redis.call('SENTINEL', 'FAILOVER', name));
      return { from, to: await waitForNewMaster(from) };
    },
    waitForNewMaster,
    async replicasInSync(timeoutMs = 20_000) {
      await until(
        async () => {
          const master = await masterPortBy(sentinels[0]!);
          for (const server of servers) {
            if (server.port === master || !(await adminCall(server.port, (redis) => redis.ping(), options.password).catch(() => null)))
              continue;
            const info = await adminCall(server.port, (redis) => redis.info('replication'), options.password);
            if (!/role:slave/.test(info) || !info.includes(`master_port:${master}`) || !/master_link_status:up/.test(info)) return false;
          }
          return true;
        },
        timeoutMs,
        'the replicas to follow the current master',
      );
    },
    close: () => closeAll([...sentinels, ...servers]),
  };
}
