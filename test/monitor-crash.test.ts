import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pollSchedule } from '../src/monitor/poll.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { pollDeps, RecordingSink, salesSchedule } from './helpers/monitor.ts';

const child = fileURLToPath(new URL('./fixtures/poll-and-hang.ts', import.meta.url));

/** Runs the freezing poller until it prints `marker`, then SIGKILLs it; returns the event ids it printed. */
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

describe('a poller killed with SIGKILL mid-poll', () => {
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

  it('between detection and snapshot write: the next poll detects the failure once', async () => {
    const prefix = 'crash-before';
    const detected = await pollAndKill([redisServer.url, prefix, simulator.url, 'before-commit'], 'DETECTED');
    assert.equal(detected.length, 1, 'the killed poller had detected the failure');
    const sink = new RecordingSink();
    const deps = pollDeps(simulator.url, new SnapshotStore(redis, prefix), sink);
    await pollSchedule(salesSchedule, deps);
    await pollSchedule(salesSchedule, deps);
    assert.deepEqual(sink.eventIds('failed'), detected, 'same deterministic event id, delivered once');
  });

  it('after the snapshot write but before hand-over: the outbox delivers it once', async () => {
    const prefix = 'crash-after';
    const committed = await pollAndKill([redisServer.url, prefix, simulator.url, 'after-commit'], 'COMMITTED');
    assert.equal(committed.length, 1);
    const sink = new RecordingSink();
    const deps = pollDeps(simulator.url, new SnapshotStore(redis, prefix), sink);
    await pollSchedule(salesSchedule, deps);
    await pollSchedule(salesSchedule, deps);
    assert.deepEqual(sink.eventIds('failed'), committed, 'relayed from the outbox exactly once, not re-detected');
  });
});
