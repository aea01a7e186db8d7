import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { createLogger } from '../src/log.ts';
import { registerConfigSecrets } from '../src/redact/config.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { parseSamples, sampleValue, usePromtool, promtool, PROMTOOL_MISSING } from './helpers/prometheus-text.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

const TOKEN = 'test-admin-token-0123456789abcdef';

/** The JSON API on the daemon's listener: a real daemon, real Redis, the simulator and a real SMTP server. */
describe('HTTP API: /api/v1/alerts, /api/v1/silences, /api/v1/acks', () => {
  let redis: PrivateRedis;
  let simulator: Simulator;
  let smtp: TestSmtpServer;
  let daemon: Daemon;
  let open: Daemon;
  const logs: string[] = [];

  const yaml = (extra: string, prefix: string) => `superoffice: { url: "${SIM}", username: demo, password: demo, timeout: 2s }
redis: { url: "${REDIS}", prefix: ${prefix} }
schedules: [{ name: sales, associates: [101], every: 1s }]
mail: { smtp: "smtp://127.0.0.1:${SMTP}", from: bw@example.com, to: [ops@example.com], retryDelay: 200ms }
http: { host: 127.0.0.1, port: 0${extra} }
`;
  let SIM = '';
  let REDIS = '';
  let SMTP = 0;

  before(async () => {
    redis = await startRedis();
    simulator = await startSimulator({ scenario: 'empty' });
    smtp = await startSmtpServer();
    [SIM, REDIS, SMTP] = [simulator.url, redis.url, smtp.port];
    const config = parseConfig(yaml(`, adminToken: "${TOKEN}"`, 'api'), {});
    registerConfigSecrets(config);
    daemon = await startDaemon(config, createLogger('info', { write: (line: string) => void logs.push(line) }));
    open = await startDaemon(parseConfig(yaml('', 'apiopen'), {}), createLogger('silent'));
  });
  after(async () => {
    await Promise.all([daemon.close(), open.close()]);
    await smtp.stop();
    await simulator.close();
    await redis.close();
  });

  const call = async (target: Daemon, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${target.httpUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  const admin = { Authorization: `Bearer ${TOKEN}` };
  const aSilence = { task: 'Mailing*', kind: 'failed', for: '2h', comment: 'mail relay migration', author: 'alice' };

  it('writes without a configured token answer 403 saying so; reads work', async () => {
    const denied = await call(open, 'POST', '/api/v1/silences', aSilence, admin);
    assert.equal(denied.status, 403);
    assert.match(String(denied.json?.error), /set http\.adminToken/);
    assert.equal((await call(open, 'DELETE', '/api/v1/silences/x', undefined, admin)).status, 403);
    assert.equal((await call(open, 'POST', '/api/v1/acks', { taskId: 1, comment: 'x', author: 'a' }, admin)).status, 403);
    assert.equal((await call(open, 'GET', '/api/v1/silences')).status, 200);
  });

  it('a missing or wrong token is 401 (with WWW-Authenticate); nothing is written', async () => {
    const missing = await call(daemon, 'POST', '/api/v1/silences', aSilence);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    for (const header of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      TOKEN,
      'Bearer',
    ]) {
      assert.equal((await call(daemon, 'POST', '/api/v1/silences', aSilence, { Authorization: header })).status, 401, header);
    }
    assert.equal((await call(daemon, 'DELETE', '/api/v1/silences/x', undefined, { Authorization: 'Bearer nope' })).status, 401);
    assert.deepEqual((await call(daemon, 'GET', '/api/v1/silences')).json?.silences, []);
  });

  it('the right token: 201 with the silence; listed by GET; DELETE expires it (200), an unknown id is 404', async () => {
    const created = await call(daemon, 'POST', '/api/v1/silences', aSilence, admin);
    assert.equal(created.status, 201, created.text);
    const silence = created.json as { id: string; state: string; matchers: unknown; author: string; endsAt: string };
    assert.equal(silence.state, 'active');
    assert.deepEqual(silence.matchers, { task: 'Mailing*', kind: 'failed' });
    assert.equal(silence.author, 'alice');
    const listed = await call(daemon, 'GET', '/api/v1/silences');
    assert.deepEqual(
      (listed.json!.silences as { id: string }[]).map((s) => s.id),
      [silence.id],
    );
    const expired = await call(daemon, 'DELETE', `/api/v1/silences/${silence.id}?author=bob`, undefined, admin);
    assert.equal(expired.status, 200);
    assert.deepEqual([expired.json?.state, expired.json?.expiredBy], ['expired', 'bob']);
    const unknown = await call(daemon, 'DELETE', '/api/v1/silences/no-such-id', undefined, admin);
    assert.equal(unknown.status, 404);
    // ?author= is checked like a body's author: bounded, one line, a secret pasted into it masked.
    const other = (await call(daemon, 'POST', '/api/v1/silences', aSilence, admin)).json as { id: string };
    for (const [author, pattern] of [
      ['x'.repeat(201), /at most 200 characters/],
      ['bob\r\nINFO forged log line', /control characters/],
    ] as const) {
      const bad = await call(daemon, 'DELETE', `/api/v1/silences/${other.id}?author=${encodeURIComponent(author)}`, undefined, admin);
      assert.deepEqual([bad.status, bad.json?.field], [400, 'author'], bad.text);
      assert.match(String(bad.json?.error), pattern);
    }
    const masked = await call(
      daemon,
      'DELETE',
      `/api/v1/silences/${other.id}?author=${encodeURIComponent(`bob ${TOKEN}`)}`,
      undefined,
      admin,
    );
    assert.equal(masked.status, 200, masked.text);
    assert.equal(masked.json?.expiredBy, 'bob ***');
    assert.equal(unknown.json?.field, 'id');
    assert.ok(logs.some((line) => /silence added through the API/.test(line)));
  });

  it('bad bodies are 400 naming the offending field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...aSilence, kind: 'exploded' }, 'kind', /must be one of: failed, stalled, stuck, superoffice-down/],
      [{ ...aSilence, taskId: 'abc' }, 'taskId', /whole number/],
      [{ ...aSilence, taskId: 1.5 }, 'taskId', /whole number/],
      [{ ...aSilence, for: '90' }, 'for', /need a unit/],
      [{ ...aSilence, for: undefined }, 'for', /either for .* or until/],
      [{ ...aSilence, until: '2020-01-01T00:00:00Z', for: undefined }, 'until', /in the past/],
      [{ ...aSilence, until: 'soon', for: undefined }, 'until', /not an ISO-8601 time/],
      [{ ...aSilence, for: '99999999999d' }, 'for', /must be at most 3650d/],
      [{ ...aSilence, from: '2020-01-01T00:00:00Z' }, 'for', /ends in the past/],
      [{ ...aSilence, comment: '' }, 'comment', /must not be empty/],
      [{ ...aSilence, comment: undefined }, 'comment', /is required/],
      [{ ...aSilence, author: undefined }, 'author', /is required/],
      [{ ...aSilence, schedule: 'nowhere' }, 'schedule', /no schedule named "nowhere"/],
      [{ ...aSilence, colour: 'red' }, 'colour', /unknown field/],
      [{ for: '1h', comment: 'x', author: 'a' }, '', /at least one matcher/],
    ];
    for (const [body, field, pattern] of cases) {
      const answer = await call(daemon, 'POST', '/api/v1/silences', body, admin);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.json?.field, field || undefined, answer.text);
      assert.match(String(answer.json?.error), pattern);
    }
    assert.equal((await call(daemon, 'POST', '/api/v1/silences', '[1,2]', admin)).status, 400);
    assert.equal((await call(daemon, 'POST', '/api/v1/silences', '{not json', admin)).status, 400);
    const ack = await call(daemon, 'POST', '/api/v1/acks', { taskId: 4711, author: 'a' }, admin);
    assert.deepEqual([ack.status, ack.json?.field], [400, 'comment']);
  });

  it('answers never contain a secret: the admin token sent back in a field is masked', async () => {
    const answer = await call(daemon, 'POST', '/api/v1/silences', { ...aSilence, until: TOKEN, for: undefined }, admin);
    assert.equal(answer.status, 400);
    assert.ok(!answer.text.includes(TOKEN), answer.text);
    const stored = await call(daemon, 'POST', '/api/v1/silences', { ...aSilence, comment: `token is ${TOKEN}` }, admin);
    assert.equal(stored.status, 201);
    assert.ok(!stored.text.includes(TOKEN));
    assert.ok(!(await call(daemon, 'GET', '/api/v1/silences')).text.includes(TOKEN));
  });

  it("acks: the task's active alerts are acknowledged (201); GET /api/v1/alerts shows the ack and what mutes them; none active is 404", async () => {
    simulator.upsertTask({ id: 4711, associateId: 101, name: 'MailingSend', state: 'Failed', lastStarted: Date.now(), startCount: 1 });
    await waitUntil(
      async () => ((await call(daemon, 'GET', '/api/v1/alerts')).json!.alerts as unknown[]).length > 0,
      15_000,
      'the failure to be an active alert',
    );
    const acked = await call(daemon, 'POST', '/api/v1/acks', { taskId: 4711, comment: 'restarting the relay', author: 'bob' }, admin);
    assert.equal(acked.status, 201, acked.text);
    assert.deepEqual(
      (acked.json!.acknowledged as { kind: string }[]).map((a) => a.kind),
      ['failed'],
    );
    const alerts = (await call(daemon, 'GET', '/api/v1/alerts')).json?.alerts as Record<string, unknown>[];
    const alert = alerts[0]!;
    assert.deepEqual([alert.schedule, alert.kind, (alert.task as { id: number }).id], ['sales', 'failed', 4711]);
    // associate as the answer gives it ("101", "system") is accepted back; associateId is the number.
    const task = alert.task as { associate: string; associateId: number };
    assert.deepEqual([task.associate, task.associateId], ['101', 101]);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    for (const [associate, stored] of [
      [task.associate, 101],
      ['system', 0],
      [' System ', 0],
    ] as const) {
      const made = await call(
        daemon,
        'POST',
        '/api/v1/silences',
        { associate, from: tomorrow, for: '1h', comment: 'later', author: 'bob' },
        admin,
      );
      assert.equal(made.status, 201, `${associate}: ${made.text}`);
      assert.deepEqual(made.json?.matchers, { associate: stored });
    }
    const wrong = await call(daemon, 'POST', '/api/v1/silences', { associate: 'systems', for: '1h', comment: 'x', author: 'bob' }, admin);
    assert.deepEqual([wrong.status, wrong.json?.field], [400, 'associate']);
    assert.match(String(wrong.json?.error), /whole number or "system"/);
    assert.deepEqual({ ...(alert.acknowledged as object), at: 'x' }, { author: 'bob', comment: 'restarting the relay', at: 'x' });
    assert.deepEqual(
      (alert.silencedBy as { comment: string }[]).map((s) => s.comment),
      [`token is ***`],
      'the active silence on Mailing* failed',
    );
    const none = await call(daemon, 'POST', '/api/v1/acks', { taskId: 999, comment: 'x', author: 'a' }, admin);
    assert.deepEqual([none.status, none.json?.field], [404, 'taskId']);
    simulator.removeTask(4711);
  });

  it('unknown methods are 405 with Allow; metrics count silences and pass promtool', {
    skip: !usePromtool && PROMTOOL_MISSING,
  }, async () => {
    const put = await call(daemon, 'PUT', '/api/v1/silences', {});
    assert.equal(put.status, 405);
    assert.match(put.headers.get('allow') ?? '', /GET/);
    await waitUntil(
      async () => {
        const samples = parseSamples(await (await fetch(`${daemon.httpUrl}/metrics`)).text());
        return sampleValue(samples, 'batchwatch_silences', { state: 'active' }) === 1;
      },
      40_000,
      'batchwatch_silences to count the active silence (read every 15 s)',
    );
    const body = await (await fetch(`${daemon.httpUrl}/metrics`)).text();
    const samples = parseSamples(body);
    assert.equal(sampleValue(samples, 'batchwatch_silences', { state: 'expired' }), 2, 'the two expired in the DELETE test');
    assert.equal(sampleValue(samples, 'batchwatch_notifications_silenced_total', { schedule: 'sales', kind: 'stalled' }), 0);
    if (usePromtool) assert.equal(promtool(['check', 'metrics'], body).output, '');
  });
});
