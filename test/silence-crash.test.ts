import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { alertKey } from '../src/core/event-id.ts';
import { pollSchedule } from '../src/monitor/poll.ts';
import { MutedStore } from '../src/silence/muted-store.ts';
import { SilenceStore } from '../src/silence/silence-store.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollDeps, RecordingSink, salesSchedule } from './helpers/monitor.ts';

const child = fileURLToPath(new URL('./fixtures/release-and-hang.ts', import.meta.url));

/** Runs the freezing poller until it prints `marker`, then SIGKILLs it; returns the release ids it printed. */
async function pollAndKill(args: string[], marker: string): Promise<string[]> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const seen = new Promise<string[]>((resolve, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith(marker));
      if (line) resolve(JSON.parse(line.slice(marker.length + 1)) as string[]);
    });
    proc.on('exit', (code) => reject(new Error(`poller exited (${code}) before "${marker}": ${out}`)));
  });
  const ids = await seen;
  const exited = once(proc, 'exit');
  proc.kill('SIGKILL');
  await exited;
  return ids;
}

describe('a poller killed with SIGKILL while releasing a muted alert', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    simulator = await startSimulator({ scenario: 'empty' });
    simulator.upsertTask({ id: 4711, associateId: 101, name: 'MailingSend', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
  });
  after(async () => {
    redis.disconnect();
    await simulator.close();
    await redisServer.close();
  });

  /** The failure detected and handed over, then muted by the notifier (as its mute stage does), the silence since expired. */
  async function mutedAlert(prefix: string) {
    const store = new SnapshotStore(redis, prefix);
    const silences = new SilenceStore(redis, prefix);
    const sink = new RecordingSink();
    const deps = { ...pollDeps(simulator.url, store, sink), silences: () => silences.all() };
    await pollSchedule(salesSchedule, deps);
    const [fired] = sink.batches.flatMap((b) => b.events);
    assert.ok(fired);
    await new MutedStore(redis, prefix).remember('sales', [
      { kind: 'failed', subject: '4711', episode: fired.id, eventId: fired.id, at: Date.now(), silences: ['s1'], windows: [] },
    ]);
    return { deps, sink: new RecordingSink(), store };
  }

  it('between computing the release and the commit: the next poll releases it once, with the same id', async () => {
    const prefix = 'rel-before';
    const { deps, store } = await mutedAlert(prefix);
    const detected = await pollAndKill([redisServer.url, prefix, simulator.url, 'before-commit'], 'DETECTED');
    assert.equal(detected.length, 1, 'the killed poller had a release');
    const sink = new RecordingSink();
    await pollSchedule(salesSchedule, { ...deps, sink });
    await pollSchedule(salesSchedule, { ...deps, sink });
    assert.deepEqual(
      sink.batches
        .flatMap((b) => b.events)
        .filter((e) => e.release)
        .map((e) => e.id),
      detected,
    );
    assert.equal((await store.load('sales')).muted.raw[alertKey('failed', '4711')], undefined, 'the entry went with the release');
  });

  it('after the commit, before the hand-over: the outbox delivers the release once and it is not released again', async () => {
    const prefix = 'rel-after';
    const { deps } = await mutedAlert(prefix);
    const committed = await pollAndKill([redisServer.url, prefix, simulator.url, 'after-commit'], 'COMMITTED');
    assert.equal(committed.length, 1);
    const sink = new RecordingSink();
    await pollSchedule(salesSchedule, { ...deps, sink });
    await pollSchedule(salesSchedule, { ...deps, sink });
    assert.deepEqual(
      sink.batches.flatMap((b) => b.events).map((e) => e.id),
      committed,
      'relayed from the outbox exactly once, not released again',
    );
  });
});
