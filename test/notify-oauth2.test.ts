import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { MailConfig, MailOAuth2Config } from '../src/config/types.ts';
import { noopInstruments, type Instruments } from '../src/metrics/instruments.ts';
import { combineReadiness, mailCheck } from '../src/metrics/readiness.ts';
import type { MailProblemCause } from '../src/notify/mail-problem.ts';
import { NotificationHistory } from '../src/notify/history.ts';
import { createNotifier, jobIdFor, type Notifier } from '../src/notify/notifier.ts';
import { renderBatch } from '../src/notify/render.ts';
import { createMailTransport, MailDeliveryError, type MailServerConfig } from '../src/notify/transport.ts';
import { NOTIFY_QUEUE } from '../src/store/keys.ts';
import { startTokenServer, type TokenServer } from './helpers/oauth2-server.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';
import { waitUntil } from './helpers/wait.ts';
import { batch, cases, event, task } from './notify-fixtures.ts';
import { withOverrides, type Overrides } from './helpers/overrides.ts';

const USER = 'alerts@example.com';
const CLIENT_ID = 'batchwatch-app';
const CLIENT_SECRET = 'Client-Secret-4242';
const SCOPE = 'https://outlook.office365.com/.default';
const REFRESH_TOKEN = 'Refresh-Token-1x2y3z';
const envelope = { from: 'batchwatch <batchwatch@example.com>', to: ['ops@example.com'] };
const message = renderBatch(cases.failed!, { hostname: 'bw-host' });
const timeouts = { connection: 2000, greeting: 2000, socket: 5000 };

async function expectFailure(promise: Promise<unknown>): Promise<MailDeliveryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MailDeliveryError, `expected MailDeliveryError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

describe('SMTP AUTH XOAUTH2 against a real SMTP server (STARTTLS, private CA) and a local token endpoint', () => {
  let pki: TestPki;
  let tokens: TokenServer;
  let smtp: TestSmtpServer;
  let redis: PrivateRedis;
  let client: Redis;
  let prefixes = 0;
  const open: Notifier[] = [];
  const queues: Queue[] = [];

  const oauth2 = (overrides: Overrides<MailOAuth2Config> = {}): MailOAuth2Config =>
    withOverrides({ user: USER, tokenUrl: tokens.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scope: SCOPE }, overrides);
  const server = (overrides: Overrides<MailOAuth2Config> = {}): MailServerConfig => ({
    smtp: smtp.url,
    oauth2: oauth2(overrides),
    tls: { ca: pki.caFile },
  });

  before(async () => {
    pki = makeTestPki();
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    client.disconnect();
    await redis.close();
    pki.remove();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((n) => n.close()));
    await smtp?.stop();
    await tokens?.close();
  });

  async function start(
    options: { refreshToken?: string; expiresIn?: number; smtpAccepts?: (token: string) => boolean } = {},
  ): Promise<void> {
    tokens = await startTokenServer({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scope: SCOPE,
      refreshToken: REFRESH_TOKEN,
      ...options,
    });
    smtp = await startSmtpServer({
      tls: { ...pki.server, implicit: false },
      xoauth2: { user: USER, accepts: options.smtpAccepts ?? ((token) => tokens.accepts(token)) },
    });
  }

  function recorder() {
    const paused: (MailProblemCause | null)[] = [];
    const counts: Record<string, number> = {};
    const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const instruments: Instruments = {
      ...noopInstruments,
      notification: (outcome) => {
        counts[outcome] = (counts[outcome] ?? 0) + 1;
      },
      mailDeliveryPaused: (cause) => void paused.push(cause),
    };
    return {
      paused,
      counts,
      logs,
      instruments,
      log: (level: string, msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, ...(fields ? { fields } : {}) }),
    };
  }

  function notifier(mail: MailConfig, rec: ReturnType<typeof recorder>, prefix: string): Notifier {
    const n = createNotifier({
      connect: () => {
        const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
        connection.on('error', () => {});
        return connection;
      },
      prefix,
      mail,
      recipientsFor: () => mail.to,
      hostname: 'bw-test',
      instruments: rec.instruments,
      log: rec.log,
      recheckMs: 250,
    });
    open.push(n);
    return n;
  }

  const mailConfig = (overrides: Overrides<MailOAuth2Config> = {}): MailConfig => ({
    enabled: true,
    ...server(overrides),
    from: envelope.from,
    to: envelope.to,
    retryDelay: 200,
    retryFor: 60_000,
  });

  async function jobState(prefix: string, batchId: string): Promise<string> {
    const queue = new Queue(NOTIFY_QUEUE, { connection: client, prefix });
    queues.push(queue);
    return queue.getJobState(jobIdFor(batchId));
  }

  it('sends with XOAUTH2 (client-credentials grant) over STARTTLS trusted via mail.tls.ca, reusing the cached token', async () => {
    await start();
    const transport = createMailTransport(server(), { timeouts });
    await transport.send(message, envelope);
    await transport.send(message, envelope);
    transport.close();
    const received = await smtp.waitForMessages(2);
    assert.ok(
      received.every((m) => m.secure && m.user === USER),
      'encrypted and logged in as the mailbox',
    );
    assert.deepEqual(tokens.requests, [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: SCOPE },
    ]);
    assert.ok(
      smtp.logins.every((l) => l.method === 'XOAUTH2' && l.ok && l.token === tokens.issued[0]),
      'one token, reused',
    );
  });

  it('sends with the refresh-token grant (Gmail style)', async () => {
    await start();
    const transport = createMailTransport(server({ scope: undefined, refreshToken: REFRESH_TOKEN }), { timeouts });
    await transport.send(message, envelope);
    transport.close();
    await smtp.waitForMessages(1);
    assert.equal(tokens.requests[0]?.grant_type, 'refresh_token');
    assert.equal(tokens.requests[0]?.refresh_token, REFRESH_TOKEN);
  });

  it('token rotation mid-run: a token the server stops accepting is renewed once, and each event is mailed exactly once', async () => {
    await start();
    const rec = recorder();
    const prefix = `oa${++prefixes}`;
    const n = notifier(mailConfig(), rec, prefix);
    await n.start();
    const first = { ...batch([event({ kind: 'failed' })]), id: 'sales.rot1', createdAt: Date.now() };
    await n.enqueue(first);
    await smtp.waitForMessages(1);
    // The provider rotates: the first token is revoked, and the pooled connection is gone.
    tokens.revoke(tokens.issued[0]!);
    await smtp.stop();
    await smtp.restart();
    const loginsBefore = smtp.logins.length;
    const second = {
      ...batch([event({ kind: 'stalled', task: task({ id: 4712, name: 'ExportToErp', state: 'Started' }) })]),
      id: 'sales.rot2',
      createdAt: Date.now(),
    };
    await n.enqueue(second);
    const messages = await smtp.waitForMessages(2, 15_000);
    await waitUntil(async () => (await jobState(prefix, 'sales.rot2')) === 'completed', 10_000, 'the second job to complete');

    assert.deepEqual(
      messages.map((m) => m.parsed.headers.get('x-batchwatch-events')),
      ['failed=4711', 'stalled=4712'],
    );
    assert.equal(tokens.issued.length, 2, 'one new token after the rejection');
    assert.ok(
      smtp.logins.slice(0, loginsBefore).every((l) => l.ok && l.token === tokens.issued[0]),
      'before: the first token',
    );
    assert.deepEqual(
      smtp.logins.slice(loginsBefore).map((l) => [l.token === tokens.issued[0] ? 'first' : 'second', l.ok]),
      [
        ['first', false],
        ['second', true],
      ],
      'after: the old token refused once, the new one accepted',
    );
    assert.equal(rec.counts.retried, undefined, 'the renewal happened inside one attempt, not as a retry');
    const history = await new NotificationHistory(client, prefix).recent();
    assert.deepEqual(
      history.map((h) => [h.batchId, h.status]),
      [
        ['sales.rot2', 'sent'],
        ['sales.rot1', 'sent'],
      ],
    );
  });

  it('a wrong client secret pauses delivery: nothing sent or lost, readiness says mail, resumes by itself once fixed', async () => {
    await start();
    tokens.setClientSecret('the-new-secret-nobody-told-us');
    const rec = recorder();
    const prefix = `oa${++prefixes}`;
    const n = notifier(mailConfig(), rec, prefix);
    const readiness = combineReadiness([mailCheck(() => n.problem())]);
    await n.start();
    await n.enqueue({ ...cases.failed!, id: 'sales.paused', createdAt: Date.now() });
    await waitUntil(() => n.problem() !== undefined, 10_000, 'delivery to pause');
    // Several re-checks later it is still one pause: logged once, counted once.
    const requestsAtPause = tokens.requests.length;
    await waitUntil(() => tokens.requests.length >= requestsAtPause + 3, 10_000, 'three re-checks');

    assert.match(
      n.problem()!,
      /refused the client-credentials grant \(401 invalid_client: AADSTS7000215.*\): check mail\.oauth2\.clientId and mail\.oauth2\.clientSecret/,
    );
    const ready = await readiness();
    assert.equal(ready.ready, false);
    assert.match(ready.reasons[0]!, /^mail: token endpoint mail\.oauth2\.tokenUrl .* refused/);
    assert.deepEqual(rec.paused, ['authentication'], 'counted once');
    assert.equal(rec.logs.filter((l) => /mail delivery paused/.test(l.msg)).length, 1, 'logged once');
    assert.equal(smtp.messages.length, 0);
    assert.equal(await n.depth(), 1, 'the notification is still queued');
    assert.equal(await jobState(prefix, 'sales.paused'), 'waiting', 'waiting, not failed or burning retries');
    assert.equal(rec.counts.retried, undefined);
    const paused = (await new NotificationHistory(client, prefix).recent()).find((h) => h.batchId === 'sales.paused');
    assert.equal(paused?.status, 'paused');
    assert.match(paused?.detail ?? '', /^authentication: .*mail\.oauth2\.clientSecret/);

    tokens.setClientSecret(CLIENT_SECRET);
    const [mail] = await smtp.waitForMessages(1, 10_000);
    assert.equal(mail!.parsed.headers.get('x-batchwatch-events'), 'failed=4711');
    await waitUntil(async () => (await jobState(prefix, 'sales.paused')) === 'completed', 10_000, 'the job to complete');
    assert.equal(n.problem(), undefined);
    assert.equal((await readiness()).ready, true);
    assert.deepEqual(rec.paused, ['authentication', null]);
    assert.equal(smtp.messages.length, 1, 'exactly one mail');
    const text = JSON.stringify(rec.logs);
    for (const secret of [CLIENT_SECRET, ...tokens.issued]) assert.ok(!text.includes(secret), 'no secret in the log');
  });

  it('the SMTP server refusing a fresh token too is a configuration problem naming mail.oauth2', async () => {
    await start({ smtpAccepts: () => false });
    const transport = createMailTransport(server(), { timeouts });
    const error = await expectFailure(transport.send(message, envelope));
    transport.close();
    assert.equal(error.kind, 'configuration');
    assert.equal(error.problem?.cause, 'authentication');
    assert.match(error.message, /refused the XOAUTH2 login as alerts@example\.com with a fresh token .*check mail\.oauth2\.user/);
    assert.equal(tokens.requests.length, 2, 'the token is renewed once, not in a loop');
  });

  it('an unreachable or failing token endpoint is temporary (retried), not a configuration problem', async () => {
    await start();
    tokens.setFailure(503);
    const transport = createMailTransport(server(), { timeouts });
    const error = await expectFailure(transport.send(message, envelope));
    assert.equal(error.kind, 'temporary');
    assert.match(error.message, /token endpoint .* failed \(503 temporarily_unavailable\)/);
    tokens.setFailure(null);
    await transport.send(message, envelope);
    transport.close();
    await smtp.waitForMessages(1);
  });
});
