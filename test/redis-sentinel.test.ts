import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { scheduleKeys } from '../src/store/keys.ts';
import { closeRedisTarget, createRedisClient, type ConnectionLog } from '../src/redis/connections.ts';
import { fencedSentinelConnector, masterNameOf, SentinelFence } from '../src/redis/sentinel-fence.ts';
import { assertEachFailureMailedOnce, checkRun, failTasksOneByOne, startDaemonRun, type DaemonRun } from './helpers/daemon-run.ts';
import { startTestSentinelGroup, type TestSentinelGroup } from './helpers/redis-topology.ts';
import { waitUntil } from './helpers/wait.ts';

const PREFIX = 'bws';

describe('with Redis Sentinel (a master, a replica and three Sentinels)', () => {
  let group: TestSentinelGroup;
  let run: DaemonRun | undefined;
  const mailed: number[] = [];

  before(async () => {
    group = await startTestSentinelGroup();
  });
  after(async () => {
    await run?.close();
    await group?.close();
  });

  /** The snapshot versions of both schedules, read from the current master: each commit adds one. */
  const versions = async (): Promise<number[]> => {
    const master = new Redis({ port: await group.masterPort(), lazyConnect: true, maxRetriesPerRequest: 0 });
    master.on('error', () => undefined);
    try {
      await master.connect();
      return await Promise.all(
        ['sales', 'support'].map(async (s) => Number((await master.hget(scheduleKeys(PREFIX, s).snapshot, 'version')) ?? 0)),
      );
    } finally {
      master.disconnect();
    }
  };
  const allMailed = (ids: readonly number[]) => {
    const seen = new Set(
      run!.smtp.messages.flatMap((m) => String(m.parsed.headers.get('x-batchwatch-events')).replace('failed=', '').split(',')),
    );
    return ids.every((id) => seen.has(String(id)));
  };
  const threeMorePolls = async () => {
    const before = await versions();
    await waitUntil(
      async () => (await versions().catch(() => [0, 0])).every((v, i) => v >= before[i]! + 3),
      15_000,
      'three more polls of each schedule',
    );
  };

  it('mails every failure exactly once while SENTINEL FAILOVER moves the master mid-run', async () => {
    run = await startDaemonRun(
      `{ sentinel: { name: ${group.name}, nodes: [${group.sentinelNodes.map((n) => `"${n}"`).join(', ')}] }, prefix: ${PREFIX} }`,
    );
    await waitUntil(async () => (await run!.readyStatus()) === 200, 20_000, '/readyz 200 through Sentinel');
    const ids = Array.from({ length: 16 }, (_, i) => 8000 + i);
    let failover: { from: number; to: number } | undefined;
    const check = await checkRun(run);
    assert.match(
      check.stdout,
      new RegExp(
        `^ok\\s+redis\\s+sentinel mymaster → master 127\\.0\\.0\\.1:${await group.masterPort()}, 1 replica, 3 sentinels, reachable`,
        'm',
      ),
      check.stdout,
    );
    await failTasksOneByOne(run.simulator, ids, 300, { 5: async () => (failover = await group.failover()) });
    assert.ok(failover && failover.from !== failover.to);
    await waitUntil(() => allMailed(ids), 30_000, 'every failure mailed');
    await threeMorePolls();
    assertEachFailureMailedOnce(run.smtp.messages, ids);
    mailed.push(...ids);
  });

  it('the master dies: /readyz 503 until the Sentinels promote the replica, then 200 by itself; every failure mailed once', async () => {
    assert.ok(run, 'the daemon of the previous test');
    const ids = Array.from({ length: 10 }, (_, i) => 8100 + i);
    // The old master must have rejoined as a replica: a master that dies with no replica in sync loses data.
    await group.replicasInSync();
    const port = await group.masterPort();
    const reasons: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const res = await fetch(`${run!.daemon.httpUrl}/readyz`).catch(() => null);
        if (res?.status === 503) reasons.push(await res.text());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await failTasksOneByOne(run.simulator, ids, 300, {
      3: async () => {
        await group.servers.find((server) => server.port === port)!.stop();
        await group.waitForNewMaster(port);
      },
    });
    await waitUntil(() => allMailed(ids), 30_000, 'every failure mailed after the failover');
    await waitUntil(async () => (await run!.readyStatus()) === 200, 20_000, '/readyz 200 again');
    watching = false;
    await watch;
    assert.ok(
      reasons.some((text) => /redis unreachable/.test(text)),
      `503 while no master was reachable; got ${reasons[0] ?? 'no 503'}`,
    );
    assert.ok(
      reasons.some((text) => /redis: Sentinel failover of mymaster in progress/.test(text)),
      'readiness said a failover was running',
    );
    assert.ok(
      run.logs.matching(/Redis Sentinel failover started/).length >= 2 && run.logs.matching(/Redis Sentinel failover finished/).length >= 2,
      'both failovers in the log',
    );
    await threeMorePolls();
    assertEachFailureMailedOnce(run.smtp.messages, [...mailed, ...ids]);
  });

  it('while a failover holds connections, a client being closed ends at once; the others connect when it is over', async () => {
    const sentinel = { name: group.name, nodes: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), tls: false };
    const fence = new SentinelFence({ sentinel, maxHoldMs: 30_000 });
    const client = () => {
      const redis = new Redis({
        sentinels: sentinel.nodes,
        name: sentinel.name,
        Connector: fencedSentinelConnector(fence),
        retryStrategy: () => 50,
      });
      redis.on('error', () => undefined);
      return redis;
    };
    try {
      fence.onEvent('+try-failover', `master ${group.name} 127.0.0.1 1`);
      fence.onEvent('+try-failover', 'master some-other-master 127.0.0.1 1');
      assert.equal(fence.failoverInProgress, true);
      const closing = client();
      const waiting = client();
      // The same connection without the fence: once it is up, the held one could have been too.
      const unfenced = new Redis({ sentinels: sentinel.nodes, name: sentinel.name, retryStrategy: () => 50 });
      unfenced.on('error', () => undefined);
      try {
        await waitUntil(() => unfenced.status === 'ready', 10_000, 'an unfenced client to connect');
      } finally {
        unfenced.disconnect();
      }
      assert.equal(waiting.status, 'connecting', 'held while the failover runs');
      closing.disconnect();
      await waitUntil(() => closing.status === 'end', 1000, 'the closed client to end without waiting for the failover');
      fence.onEvent('+switch-master', `${group.name} 127.0.0.1 1 127.0.0.1 ${await group.masterPort()}`);
      assert.equal(fence.failoverInProgress, false);
      await waitUntil(() => waiting.status === 'ready', 5000, 'the held client to connect once the new master is announced');
      assert.equal(await waiting.ping(), 'PONG');
      waiting.disconnect();
    } finally {
      fence.close();
    }
  });
});

describe('with Redis Sentinel and a password on the data nodes', () => {
  let group: TestSentinelGroup;
  before(async () => {
    group = await startTestSentinelGroup({ password: 'data-node-secret' });
  });
  after(async () => {
    await group?.close();
  });

  it('connects with redis.sentinel.password; a wrong one is reported naming the key', async () => {
    const nodes = group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
    const good = { sentinel: { name: group.name, nodes, password: 'data-node-secret', tls: false } };
    const client = createRedisClient(good, 'commands');
    try {
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.disconnect();
      closeRedisTarget(good);
    }
    const bad = { sentinel: { name: group.name, nodes, password: 'wrong-password', tls: false } };
    const warnings: string[] = [];
    const log: ConnectionLog = {
      warn: (fields, msg) => warnings.push(`${msg} ${JSON.stringify(fields)}`),
      info: () => undefined,
      debug: () => undefined,
    };
    const probe = createRedisClient(bad, 'probe', log);
    try {
      await waitUntil(() => warnings.length > 0, 5000, 'the refusal');
      assert.match(
        warnings[0]!,
        /WRONGPASS.*check the Redis password \(redis\.url, redis\.sentinel\.password or redis\.cluster\.password\)/,
      );
      assert.doesNotMatch(warnings.join('\n'), /wrong-password/);
    } finally {
      probe.disconnect();
      closeRedisTarget(bad);
    }
  });
});

describe('Sentinel events', () => {
  it('are matched to their master by name', () => {
    assert.equal(masterNameOf('+try-failover', 'master mymaster 127.0.0.1 6379'), 'mymaster');
    assert.equal(masterNameOf('+selected-slave', 'slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379'), 'mymaster');
    assert.equal(masterNameOf('+switch-master', 'mymaster 127.0.0.1 6379 127.0.0.1 6380'), 'mymaster');
    assert.equal(masterNameOf('+vote-for-leader', '6c0083e8 1'), undefined);
  });
});
