import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { emptySnapshot } from '../src/core/model.ts';
import { scheduleKeys, NOTIFY_QUEUE, POLL_QUEUE } from '../src/store/keys.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { sentLogKey } from '../src/notify/sent-log.ts';
import { assertEachFailureMailedOnce, checkRun, failTasksOneByOne, startDaemonRun, type DaemonRun } from './helpers/daemon-run.ts';
import { startTestCluster, type TestCluster } from './helpers/redis-topology.ts';
import { waitUntil } from './helpers/wait.ts';

const PREFIX = 'bwc';

describe('on a Redis Cluster (3 masters with a replica each)', () => {
  let cluster: TestCluster;
  let client: Cluster;
  let run: DaemonRun | undefined;

  before(async () => {
    cluster = await startTestCluster();
    client = new Cluster(cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })));
    client.on('error', () => undefined);
  });
  after(async () => {
    await run?.close();
    client?.disconnect();
    await cluster?.close();
  });

  it('a client closed while its slot refresh re-arms lets the process exit (ioredis leaves no refresh loop behind)', async () => {
    // What a refresh in flight at disconnect() does when it completes: it schedules the next round. Before the guard in
    // createRedisClient, that round found no nodes, scheduled the next, and so on: the process never exited.
    const nodes = cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) }));
    const script = `
      import { createRedisClient } from ${JSON.stringify(fileURLToPath(new URL('../src/redis/connections.ts', import.meta.url)))};
      const client = createRedisClient({ cluster: { nodes: ${JSON.stringify(nodes)}, tls: false } }, 'probe');
      await new Promise((resolve) => client.once('ready', resolve));
      client.disconnect();
      client.resetNodesRefreshInterval();
      console.log('closed');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    assert.match(out, /closed/, out);
    assert.equal(code, 0, `the process exits by itself once the client is closed (killed after 30 s otherwise)\n${out}`);
  });

  /** The snapshot versions of both schedules: each commit adds one, so they count polls. */
  const versions = async () =>
    Promise.all(['sales', 'support'].map(async (s) => Number((await client.hget(scheduleKeys(PREFIX, s).snapshot, 'version')) ?? 0)));

  it('keeps the keys that one script or transaction touches in one slot', async () => {
    const slot = async (key: string) => Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const keys = scheduleKeys(PREFIX, 'sales');
    assert.equal(await slot(keys.outbox), await slot(keys.snapshot), 'snapshot compare-and-set with the outbox');
    assert.equal(await slot(keys.lock), await slot(keys.snapshot), 'the lock with its schedule');
    assert.equal(await slot(sentLogKey(PREFIX, 'a')), await slot(sentLogKey(PREFIX, 'b')), 'notification log MULTI/MGET');
    assert.equal(await slot(`${PREFIX}:${NOTIFY_QUEUE}:wait`), await slot(`${PREFIX}:${NOTIFY_QUEUE}:active`), 'BullMQ notify queue');
    assert.equal(await slot(`${PREFIX}:${POLL_QUEUE}:wait`), await slot(`${PREFIX}:${POLL_QUEUE}:repeat`), 'BullMQ poll queue');
  });

  it('mails every failure exactly once while the masters of the notify queue and of a schedule fail over', async () => {
    // Left by schedules no longer configured, spread over the masters: removed at start.
    const retired = ['retired-a', 'retired-b', 'retired-c', 'retired-d', 'retired-e', 'retired-f'];
    const slots = new Set(await Promise.all(retired.map((name) => cluster.masterPortFor(scheduleKeys(PREFIX, name).snapshot))));
    assert.ok(slots.size > 1, 'the retired schedules live on more than one master');
    for (const name of retired) await new SnapshotStore(client, PREFIX).commit(emptySnapshot(name), 0, null);

    run = await startDaemonRun(`{ cluster: { nodes: [${cluster.seeds.map((s) => `"${s}"`).join(', ')}] }, prefix: ${PREFIX} }`);
    const { simulator, smtp } = run;
    await waitUntil(async () => (await run!.readyStatus()) === 200, 20_000, '/readyz 200 on the cluster');
    await waitUntil(() => run!.logs.matching(/removed the Redis state/).length > 0, 10_000, 'removed schedules cleaned up');
    for (const name of retired) assert.equal(await client.exists(scheduleKeys(PREFIX, name).snapshot), 0, `${name} removed`);
    const check = await checkRun(run);
    assert.match(
      check.stdout,
      /^ok\s+redis\s+cluster of 3 masters \(127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\) and 3 replicas, cluster_state ok, 16384\/16384 slots served, reachable/m,
      check.stdout,
    );
    const ids = Array.from({ length: 16 }, (_, i) => 7000 + i);
    const failovers: { from: number; to: number }[] = [];
    await failTasksOneByOne(simulator, ids, 300, {
      4: async () => failovers.push(await cluster.failover(`${PREFIX}:${NOTIFY_QUEUE}:wait`)),
      10: async () => failovers.push(await cluster.failover(scheduleKeys(PREFIX, 'sales').snapshot)),
    });
    assert.equal(failovers.length, 2);
    await waitUntil(() => allMailed(ids), 30_000, 'every failure mailed');
    // Observable end: both schedules polled three more times; nothing more may arrive.
    const [sales, support] = await versions();
    await waitUntil(
      async () => {
        const [s, t] = await versions();
        return s! >= sales! + 3 && t! >= support! + 3;
      },
      15_000,
      'three more polls of each schedule',
    );
    assertEachFailureMailedOnce(smtp.messages, ids);
    assert.equal(await run.readyStatus(), 200);
    // Metrics read every schedule's snapshot, each in its own slot.
    const metrics = await (await fetch(`${run.daemon.httpUrl}/metrics`)).text();
    assert.match(metrics, /batchwatch_superoffice_up\{schedule="sales"\} 1/);
    assert.match(metrics, /batchwatch_superoffice_up\{schedule="support"\} 1/);
    assert.match(metrics, /superoffice_batch_task_state\{[^}]*task_id="7000"[^}]*state="Failed"[^}]*\} 1/);
    assert.match(metrics, /superoffice_batch_task_state\{[^}]*task_id="7001"[^}]*state="Failed"[^}]*\} 1/);
    assert.match(metrics, /batchwatch_scrape_errors_total\{part="snapshots"\} 0/);
  });

  it('a master dies: /readyz 503 naming it, 200 by itself once its replica took over; every failure mailed once', async () => {
    assert.ok(run, 'the daemon of the previous test');
    const { simulator, smtp } = run;
    const ids = Array.from({ length: 10 }, (_, i) => 7100 + i);
    const port = await cluster.masterPortFor(`${PREFIX}:${NOTIFY_QUEUE}:wait`);
    const reasons: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const res = await fetch(`${run!.daemon.httpUrl}/readyz`).catch(() => null);
        if (res && res.status === 503) reasons.push(await res.text());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await failTasksOneByOne(simulator, ids, 300, {
      3: () => cluster.nodes.find((node) => node.port === port)!.stop(),
    });
    await waitUntil(() => allMailed([...ids]), 30_000, 'every failure mailed after the failover');
    await waitUntil(async () => (await run!.readyStatus()) === 200, 20_000, '/readyz 200 again');
    watching = false;
    await watch;
    assert.ok(
      reasons.some((text) => text.includes(`cluster master unreachable: 127.0.0.1:${port}`)),
      `503 naming the dead master; got ${reasons[0] ?? 'no 503'}`,
    );
    const before = await versions();
    await waitUntil(async () => (await versions()).every((v, i) => v >= before[i]! + 3), 15_000, 'three more polls of each schedule');
    assertEachFailureMailedOnce(smtp.messages, [...Array.from({ length: 16 }, (_, i) => 7000 + i), ...ids]);
  });

  function allMailed(ids: readonly number[]): boolean {
    const mailed = new Set(
      run!.smtp.messages.flatMap((m) => String(m.parsed.headers.get('x-batchwatch-events')).replace('failed=', '').split(',')),
    );
    return ids.every((id) => mailed.has(String(id)));
  }
});
