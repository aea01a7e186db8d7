import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { alertKey } from '../src/core/event-id.ts';
import { pollSchedule } from '../src/monitor/poll.ts';
import { AckStore } from '../src/silence/ack-store.ts';
import { SilenceStore } from '../src/silence/silence-store.ts';
import { silencesKey } from '../src/store/keys.ts';
import { SnapshotStore } from '../src/store/snapshot-store.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { runCli } from './helpers/cli.ts';
import { pollDeps, RecordingSink, salesSchedule } from './helpers/monitor.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

const PREFIX = 'clisil';

describe('batchwatch silence add|list|expire and ack', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let simulator: Simulator;
  let config: string;
  const env = { BATCHWATCH_AUTHOR: '' };

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    simulator = await startSimulator({ scenario: 'empty' });
    config = join(mkdtempSync(join(tmpdir(), 'batchwatch-silence-')), 'batchwatch.yaml');
    writeFileSync(
      config,
      `superoffice:
  url: ${simulator.url}
  username: demo
  password: demo
redis:
  url: ${redisServer.url}
  prefix: ${PREFIX}
schedules:
  - name: sales
    associates: [101, 102]
    every: 60s
mail:
  enabled: false
maintenance:
  - name: saturday-reindex
    cron: "0 22 * * 6"
    tz: Europe/Oslo
    duration: 4h
    match: { task: "FreeText*", kind: stalled }
`,
    );
  });
  after(async () => {
    redis.disconnect();
    await simulator.close();
    await redisServer.close();
  });

  it('add prints the id; the silence is in Redis with its matchers, times, comment and author', async () => {
    const before = Date.now();
    const result = await runCli(
      [
        'silence',
        'add',
        '--config',
        config,
        '--task',
        'Mailing*',
        '--kind',
        'failed',
        '--associate',
        'system',
        '--for',
        '2h',
        '--comment',
        'mail server migration',
        '--author',
        'alice',
      ],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const id = result.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const stored = await new SilenceStore(redis, PREFIX).get(id);
    assert.deepEqual(stored?.matchers, { task: 'Mailing*', associate: 0, kind: 'failed' });
    assert.equal(stored?.author, 'alice');
    assert.equal(stored?.comment, 'mail server migration');
    assert.ok(stored!.startsAt >= before && stored!.endsAt - stored!.startsAt === 2 * 3_600_000);
  });

  it('author defaults to the OS user; --until and --from make a pending silence', async () => {
    const from = new Date(Date.now() + 3_600_000).toISOString();
    const until = new Date(Date.now() + 7_200_000).toISOString();
    const result = await runCli(
      ['silence', 'add', '--config', config, '--task-id', '4711', '--from', from, '--until', until, '--comment', 'tonight'],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const stored = await new SilenceStore(redis, PREFIX).get(result.stdout.trim());
    assert.ok(stored && stored.author.length > 0 && stored.author !== 'unknown');
    assert.equal(stored.startsAt, Date.parse(from));
    assert.match(result.stderr, /\(pending\)/);
  });

  it('list shows silences by state and the maintenance windows; --json is parseable', async () => {
    const text = await runCli(['silence', 'list', '--config', config], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /active\s+task="Mailing\*" associate=system kind=failed/);
    assert.match(text.stdout, /pending\s+taskId=4711/);
    assert.match(
      text.stdout,
      /saturday-reindex: "0 22 \* \* 6" Europe\/Oslo for 4h, task="FreeText\*" kind=stalled — (IN FORCE until|next) /,
    );
    const json = await runCli(['silence', 'list', '--config', config, '--json'], env);
    const parsed = JSON.parse(json.stdout) as {
      silences: { state: string; matchers: unknown }[];
      maintenance: { name: string; inForce: boolean }[];
    };
    assert.deepEqual(parsed.silences.map((s) => s.state).sort(), ['active', 'pending']);
    assert.equal(parsed.maintenance[0]?.name, 'saturday-reindex');
  });

  it('expire ends a silence now; an unknown id is a usage error', async () => {
    const id = (
      await runCli(['silence', 'add', '--config', config, '--schedule', 'sales', '--for', '1h', '--comment', 'x'], env)
    ).stdout.trim();
    const result = await runCli(['silence', 'expire', '--config', config, id], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${id} expired at `));
    assert.equal((await new SilenceStore(redis, PREFIX).get(id))?.expiredAt !== undefined, true);
    const unknown = await runCli(['silence', 'expire', '--config', config, 'nope'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no silence with id nope/);
    const other = (
      await runCli(['silence', 'add', '--config', config, '--schedule', 'sales', '--for', '1h', '--comment', 'x'], env)
    ).stdout.trim();
    for (const [author, pattern] of [
      ['x'.repeat(201), /--author must be at most 200 characters/],
      ['bob\nforged', /--author must be one line without control characters/],
    ] as const) {
      const bad = await runCli(['silence', 'expire', '--config', config, '--author', author, other], env);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, pattern);
    }
    assert.equal((await new SilenceStore(redis, PREFIX).get(other))?.expiredAt, undefined, 'a refused expire changes nothing');
  });

  it('usage errors exit 2 naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--task', 'X', '--from', '2020-01-01T00:00:00Z', '--for', '1h', '--comment', 'x'], /--for ends in the past/],
      [['--for', '1h', '--comment', 'x'], /give at least one matcher: --task, --task-id, --associate, --schedule or --kind/],
      [['--task', 'X', '--comment', 'x'], /give either --for DURATION or --until ISO-8601/],
      [['--task', 'X', '--for', '1h', '--until', '2030-01-01T00:00:00Z', '--comment', 'x'], /give either --for/],
      [['--task', 'X', '--for', '1h'], /--comment is required/],
      [['--task', 'X', '--for', '1h', '--comment', '  '], /--comment must not be empty/],
      [['--task-id', 'abc', '--for', '1h', '--comment', 'x'], /--task-id must be a whole number/],
      [['--associate', '-1', '--for', '1h', '--comment', 'x'], /--associate/],
      [['--kind', 'exploded', '--for', '1h', '--comment', 'x'], /--kind must be one of: failed, stalled, stuck, superoffice-down/],
      [['--schedule', 'nowhere', '--for', '1h', '--comment', 'x'], /--schedule no schedule named "nowhere" \(configured: sales\)/],
      [['--task', 'X', '--for', '90', '--comment', 'x'], /--for durations need a unit/],
      [['--task', 'X', '--until', '2020-01-01T00:00:00Z', '--comment', 'x'], /--until is in the past/],
      [['--task', 'X', '--until', 'tomorrow', '--comment', 'x'], /--until "tomorrow" is not an ISO-8601 time with a zone/],
      [['--task', 'X', '--until', '2030-01-01T00:00:00', '--comment', 'x'], /--until .* with a zone/],
      [['--task', 'X', '--for', '1h', '--comment', 'x', '--colour', 'red'], /Unknown option '--colour'/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(['silence', 'add', '--config', config, ...args], env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
    }
    assert.equal((await runCli(['silence', '--config', config], env)).code, 2);
    assert.match((await runCli(['silence', 'mute'], env)).stderr, /unknown subcommand "mute"/);
  });

  it('ack stores an acknowledgement per active alert episode; a task without one is an error naming --task-id', async () => {
    simulator.upsertTask({
      id: 4711,
      associateId: 101,
      name: 'MailingSend',
      state: 'Failed',
      lastStarted: Date.now() - 60_000,
      startCount: 1,
    });
    const store = new SnapshotStore(redis, PREFIX);
    await pollSchedule(salesSchedule, pollDeps(simulator.url, store, new RecordingSink()));
    const episode = (await store.load('sales')).snapshot.alerts[alertKey('failed', '4711')]?.eventId;
    assert.ok(episode, 'the failure is an active alert');

    const result = await runCli(
      ['ack', '--config', config, '--task-id', '4711', '--comment', 'restarting the mailer', '--author', 'bob'],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /acknowledged failed alert of task 4711 in schedule sales/);
    const acks = await new AckStore(redis, PREFIX).all('sales');
    assert.deepEqual(Object.keys(acks), [episode]);
    assert.deepEqual(
      { ...acks[episode!], at: 0 },
      { author: 'bob', comment: 'restarting the mailer', at: 0, kind: 'failed', subject: '4711' },
    );

    const none = await runCli(['ack', '--config', config, '--task-id', '999', '--comment', 'x'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /task 999 has no active alert/);
    const missing = await runCli(['ack', '--config', config, '--comment', 'x'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--task-id is required/);
  });

  it('a stored silence with a time beyond what a date can hold is left out with a warning naming it, not a crash', async () => {
    const good = (
      await runCli(['silence', 'add', '--config', config, '--schedule', 'sales', '--for', '1h', '--comment', 'fine'], env)
    ).stdout.trim();
    const broken = {
      id: 'far-future',
      matchers: { schedule: 'sales' },
      startsAt: 0,
      endsAt: 1e17,
      comment: 'x',
      author: 'a',
      createdAt: 0,
    };
    await redis.hset(silencesKey(PREFIX), broken.id, JSON.stringify(broken));
    try {
      assert.equal(await new SilenceStore(redis, PREFIX).get(broken.id), null, 'the codec rejects it');
      assert.deepEqual((await new SilenceStore(redis, PREFIX).list()).unreadable, [broken.id]);
      for (const args of [[], ['--json']]) {
        const listed = await runCli(['silence', 'list', '--config', config, ...args], env);
        assert.equal(listed.code, 0, listed.stderr);
        assert.ok(listed.stdout.includes(good), listed.stdout);
        assert.ok(!listed.stdout.includes(broken.id), listed.stdout);
        assert.match(listed.stderr, /far-future/);
        assert.match(listed.stderr, /cannot be read/);
      }
    } finally {
      await redis.hdel(silencesKey(PREFIX), broken.id);
    }
  });

  it('Redis down: a runtime failure (exit 1) naming Redis', async () => {
    const down = join(mkdtempSync(join(tmpdir(), 'batchwatch-silence-')), 'down.yaml');
    writeFileSync(
      down,
      `superoffice:\n  url: http://127.0.0.1:9\n  ticket: t\nredis:\n  url: redis://127.0.0.1:1\nschedules:\n  - name: sales\n    associates: [1]\n    every: 60s\nmail:\n  enabled: false\n`,
    );
    const result = await runCli(['silence', 'list', '--config', down], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Redis at redis:\/\/127\.0\.0\.1:1 is not usable/);
  });
});
