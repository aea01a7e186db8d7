import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { NotificationBatch } from '../src/core/model.ts';
import type { MailConfig } from '../src/config/types.ts';
import { noopInstruments, type Instruments, type NotificationOutcome } from '../src/metrics/instruments.ts';
import { NotificationHistory } from '../src/notify/history.ts';
import { createNotifier, jobIdFor, retryDelayMs, MAX_RETRY_DELAY_MS, type Notifier, type NotifierDeps } from '../src/notify/notifier.ts';
import { withEvents, type OutcomeStatus, type Stage } from '../src/notify/pipeline.ts';
import { SentLog, sentLogKey, SENT_LOG_EXTRA_TTL_MS } from '../src/notify/sent-log.ts';
import { createMailTransport, type MailTransport } from '../src/notify/transport.ts';
import { NOTIFY_QUEUE } from '../src/store/keys.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type ReceivedMessage, type TestSmtpServer } from './helpers/smtp.ts';
import { batch, cases, event } from './notify-fixtures.ts';

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

function recorder() {
  const counts: Partial<Record<NotificationOutcome, number>> = {};
  const logs: LogLine[] = [];
  const instruments: Instruments = {
    ...noopInstruments,
    notification(outcome, count = 1) {
      counts[outcome] = (counts[outcome] ?? 0) + count;
    },
    mailDeliveryPaused() {},
  };
  const log = (level: string, msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, fields });
  return { counts, logs, instruments, log };
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const fresh = (b: NotificationBatch, id: string, createdAt = Date.now()): NotificationBatch => ({ ...b, id, createdAt });
const byBatch = (messages: ReceivedMessage[], id: string) => messages.find((m) => m.parsed.headers.get('x-batchwatch-batch') === id);

describe('notification queue (BullMQ + real Redis + real SMTP)', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let smtp: TestSmtpServer;
  let prefixCounter = 0;
  const open: Notifier[] = [];
  const queues: Queue[] = [];

  /** Waits until the batch's job reached a final state (completed or failed): after that, nothing more is sent for it. */
  async function finalState(prefix: string, batchId: string, timeoutMs = 10_000): Promise<string> {
    const queue = new Queue(NOTIFY_QUEUE, { connection: client, prefix });
    queues.push(queue);
    let state = 'unknown';
    await waitFor(
      `job ${batchId} to reach a final state (last: ${state})`,
      async () => {
        state = await queue.getJobState(jobIdFor(batchId));
        return state === 'completed' || state === 'failed';
      },
      timeoutMs,
    );
    return state;
  }

  /** The notification history's statuses for one batch, oldest first. */
  async function statuses(prefix: string, batchId: string): Promise<OutcomeStatus[]> {
    const entries = await new NotificationHistory(client, prefix).recent();
    return entries
      .filter((e) => e.batchId === batchId)
      .map((e) => e.status)
      .reverse();
  }

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  after(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    client.disconnect();
    await redis.close();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((n) => n.close()));
    await smtp?.stop();
  });

  function mailConfig(overrides: Partial<MailConfig> = {}): MailConfig {
    return {
      enabled: true,
      smtp: smtp.url,
      from: 'batchwatch <bw@example.com>',
      to: ['ops@example.com'],
      retryDelay: 200,
      retryFor: 60_000,
      ...overrides,
    };
  }

  function notifier(prefix: string, mail: MailConfig, rec: ReturnType<typeof recorder>, extra: Partial<NotifierDeps> = {}): Notifier {
    const n = createNotifier({
      connect: () => {
        const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
        connection.on('error', () => {});
        return connection;
      },
      prefix,
      mail,
      recipientsFor: (schedule) => (schedule === 'sales' ? ['sales-ops@example.com'] : mail.to),
      hostname: 'bw-test',
      instruments: rec.instruments,
      log: rec.log,
      ...extra,
    });
    open.push(n);
    return n;
  }

  const nextPrefix = () => `bwq${++prefixCounter}`;

  it('sends one mail per batch: subject, events header, both parts, escaped hostile name, thread headers', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig(), rec);
    await n.start();
    const first = fresh(cases.failed!, 'sales.first');
    const second = fresh(batch([event({ kind: 'resolved', alertKind: 'failed', reason: 'a later run succeeded' })]), 'sales.second');
    const hostile = fresh(cases.hostile!, 'sales:hostile');
    await n.enqueue(first);
    await smtp.waitForMessages(1);
    await n.enqueue(second);
    await n.enqueue(hostile);
    const messages = await smtp.waitForMessages(3);
    for (const id of ['sales.first', 'sales.second', 'sales:hostile']) assert.equal(await finalState(prefix, id), 'completed');
    assert.equal(smtp.messages.length, 3, 'one mail per batch');
    assert.deepEqual(await statuses(prefix, 'sales.first'), ['sent']);

    const a = byBatch(messages, 'sales.first')!;
    assert.equal(a.parsed.subject, '[FIRING:1] failed: task 4711 "MailingSend" (associate 101) — sales');
    assert.equal(a.parsed.headers.get('x-batchwatch-events'), 'failed=4711');
    assert.match(a.parsed.text ?? '', /Progress: +25% — Sending mails/);
    assert.match(String(a.parsed.html), /<table/);
    assert.deepEqual(a.envelope.rcptTo, ['sales-ops@example.com']);

    const b = byBatch(messages, 'sales.second')!;
    assert.match(b.parsed.subject ?? '', /^\[RESOLVED:1\] failed: task 4711/);
    assert.equal(b.parsed.headers.get('x-batchwatch-events'), 'resolved=4711');
    const root = '<task-4711.sales@bw-test>';
    assert.equal(a.parsed.references, root);
    assert.ok(([] as string[]).concat(b.parsed.references ?? []).includes(root), "second mail references the first one's thread root");
    assert.equal(b.parsed.inReplyTo, root);

    const h = byBatch(messages, 'sales:hostile')!;
    assert.doesNotMatch(h.parsed.subject ?? '', /[\r\n]/);
    assert.equal(h.parsed.bcc, undefined, 'a CRLF in the task name does not inject a header');
    assert.deepEqual(h.envelope.rcptTo, ['sales-ops@example.com']);
    const html = String(h.parsed.html);
    assert.ok(!html.includes('<script>') && html.includes('&lt;script&gt;'), 'task name escaped in HTML');
    assert.ok(!html.includes('<img'), 'Response escaped in HTML');

    assert.equal(rec.counts.sent, 3);
    const ttl = await client.pttl(sentLogKey(prefix, first.events[0]!.id));
    assert.ok(ttl > 60_000 + SENT_LOG_EXTRA_TTL_MS - 60_000, `notification log kept well beyond retryFor (pttl ${ttl})`);
    const keys = await client.keys('*');
    assert.ok(
      keys.some((k) => k.startsWith(`${prefix}:{notify}:`)),
      'BullMQ keys under the prefix',
    );
    assert.deepEqual(
      keys.filter((k) => !/^bwq\d+:/.test(k)),
      [],
      'every key starts with a configured prefix',
    );
    assert.equal(await n.depth(), 0);
  });

  it('sends a batch enqueued twice (before and after delivery) once', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig(), rec);
    const b = fresh(cases.stalled!, 'sales.twice');
    await n.enqueue(b);
    await n.enqueue(b);
    assert.equal(await n.depth(), 1, 'one job for the same batch id');
    await n.start();
    await smtp.waitForMessages(1);
    await n.enqueue(b);
    assert.equal(await finalState(prefix, 'sales.twice'), 'completed');
    assert.equal(await n.depth(), 0, 'the late enqueue added no job');
    assert.equal(smtp.messages.length, 1);
    assert.equal(rec.counts.sent, 1);
  });

  it('does not send a batch the notification log already records (duplicated job after a crash)', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const prefix = nextPrefix();
    const b = fresh(cases.stuck!, 'sales.logged');
    await new SentLog(client, prefix, 60_000).record(b.events, { sentAt: Date.now(), response: '250 ok', messageId: '<x@y>' });
    const n = notifier(prefix, mailConfig(), rec);
    await n.start();
    await n.enqueue(b);
    assert.equal(await finalState(prefix, 'sales.logged'), 'completed');
    assert.equal(smtp.messages.length, 0);
    assert.ok(rec.logs.some((l) => /already sent/.test(l.msg)));
    assert.deepEqual(await statuses(prefix, 'sales.logged'), ['already_sent']);
  });

  it('tells each event once, even when it comes round again in another batch', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig(), rec);
    await n.start();
    const failed = event({ kind: 'failed' });
    const stalled = event({ kind: 'stalled', task: cases.stalled!.events[0]!.task! });
    await n.enqueue({ ...batch([failed]), id: 'sales.one', createdAt: Date.now() });
    await smtp.waitForMessages(1);
    await n.enqueue({ ...batch([failed, stalled]), id: 'sales.two', createdAt: Date.now() });
    const [, second] = await smtp.waitForMessages(2);
    assert.equal(second!.parsed.headers.get('x-batchwatch-events'), 'stalled=4712', 'only the event not told before');
    await n.enqueue({ ...batch([stalled, failed]), id: 'sales.three', createdAt: Date.now() });
    assert.equal(await finalState(prefix, 'sales.three'), 'completed');
    assert.equal(smtp.messages.length, 2, 'nothing new to tell: no mail');
    assert.deepEqual(await statuses(prefix, 'sales.two'), ['already_sent', 'sent']);
  });

  it('a mail the SMTP server accepted is not sent again when recording it fails for a moment', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const real = createMailTransport({ smtp: smtp.url });
    // Right after the server accepted the mail, Redis refuses writes (OOM under noeviction) for a moment.
    const transport: MailTransport = {
      summary: real.summary,
      verify: () => real.verify(),
      close: (options) => real.close(options),
      async send(message, envelope, signal) {
        const result = await real.send(message, envelope, signal);
        await client.config('SET', 'maxmemory', '1');
        setTimeout(() => void client.config('SET', 'maxmemory', '0'), 300);
        return result;
      },
    };
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig({ retryDelay: 100 }), rec, { transport });
    await n.start();
    await n.enqueue(fresh(cases.failed!, 'sales.oom'));
    await smtp.waitForMessages(1);
    assert.equal(await finalState(prefix, 'sales.oom'), 'completed');
    assert.equal(smtp.messages.length, 1);
    assert.equal(rec.counts.sent, 1);
  });

  it('retries while the SMTP server answers 421, then delivers exactly once', async () => {
    smtp = await startSmtpServer({ failFirst: { code: 421, message: '4.7.0 Too busy, try later', times: 4 } });
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig({ retryDelay: 200 }), rec);
    await n.start();
    await n.enqueue(fresh(cases.failed!, 'sales.busy'));
    await smtp.waitForMessages(1, 15_000);
    assert.equal(await finalState(prefix, 'sales.busy'), 'completed');
    assert.equal(smtp.messages.length, 1);
    assert.equal(smtp.failuresServed, 4);
    assert.ok((rec.counts.retried ?? 0) >= 1, 'retries counted');
    assert.equal(rec.counts.sent, 1);
    assert.ok(rec.logs.some((l) => l.level === 'warn' && /will retry/.test(l.msg) && String(l.fields?.responseCode) === '421'));
    const history = await statuses(prefix, 'sales.busy');
    assert.deepEqual(history.slice(-1), ['sent']);
    assert.ok(history.slice(0, -1).every((s) => s === 'retrying') && history.length >= 2, history.join(','));
  });

  it('keeps a notification while SMTP is down across a notifier restart, then delivers it exactly once', async () => {
    smtp = await startSmtpServer();
    await smtp.stop();
    const prefix = nextPrefix();
    const rec1 = recorder();
    const n1 = notifier(prefix, mailConfig({ retryDelay: 200 }), rec1);
    await n1.start();
    await n1.enqueue(fresh(cases['superoffice-down']!, 'sales.outage'));
    await waitFor('a failed attempt', () => (rec1.counts.retried ?? 0) >= 1);
    await n1.close();

    await smtp.restart();
    const rec2 = recorder();
    const n2 = notifier(prefix, mailConfig({ retryDelay: 200 }), rec2);
    assert.equal(await n2.depth(), 1, 'the notification survived the restart in Redis');
    await n2.start();
    const [m] = await smtp.waitForMessages(1, 15_000);
    assert.equal(await finalState(prefix, 'sales.outage'), 'completed');
    assert.equal(smtp.messages.length, 1);
    assert.equal(m!.parsed.headers.get('x-batchwatch-events'), 'superoffice-down=sales');
    assert.equal(rec2.counts.sent, 1);
    assert.equal(rec1.counts.sent, undefined);
  });

  it('reports a permanent 550 rejection and does not retry it', async () => {
    smtp = await startSmtpServer({ rejectRecipients: /@example\.com$/ });
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig(), rec);
    await n.start();
    const b = fresh(cases.failed!, 'sales.rejected');
    await n.enqueue(b);
    assert.equal(await finalState(prefix, 'sales.rejected'), 'failed');
    assert.equal(rec.counts.rejected, 1);
    assert.deepEqual(await statuses(prefix, 'sales.rejected'), ['rejected']);
    assert.equal(rec.counts.retried, undefined, 'not retried');
    assert.equal(await n.depth(), 0);
    const line = rec.logs.find((l) => l.level === 'error' && /rejected/.test(l.msg));
    assert.ok(line, 'logged as an error');
    assert.equal(line.fields?.responseCode, 550);
    assert.deepEqual(
      line.fields?.events,
      b.events.map((e) => e.id),
    );
  });

  it('gives up after mail.retryFor, logs the event ids and counts it once', async () => {
    smtp = await startSmtpServer();
    await smtp.stop();
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig({ retryDelay: 200, retryFor: 1000 }), rec);
    await n.start();
    const b = fresh(cases.multi!, 'sales.doomed');
    await n.enqueue(b);
    assert.equal(await finalState(prefix, 'sales.doomed', 8000), 'failed', 'given up is final');
    const retried = rec.counts.retried ?? 0;
    assert.ok(retried >= 2, `retried with backoff before giving up (${retried})`);
    await smtp.restart();
    assert.equal(rec.counts.given_up, 1);
    assert.equal(rec.counts.retried, retried, 'no attempts after giving up');
    assert.equal(smtp.messages.length, 0);
    assert.equal(await n.depth(), 0);
    const line = rec.logs.find((l) => /given up/.test(l.msg));
    assert.deepEqual(
      line?.fields?.events,
      b.events.map((e) => e.id),
    );
    assert.equal((await statuses(prefix, 'sales.doomed')).at(-1), 'given_up');
  });

  it('hands an in-flight send back on close when the SMTP server stalls, and a later notifier delivers it once', async () => {
    smtp = await startSmtpServer();
    smtp.setHang('data');
    const prefix = nextPrefix();
    const rec1 = recorder();
    const n1 = notifier(prefix, mailConfig({ retryDelay: 200 }), rec1, { closeGraceMs: 300 });
    await n1.start();
    await n1.enqueue(fresh(cases.stalled!, 'sales.inflight'));
    await smtp.hanging();
    const started = Date.now();
    await n1.close();
    assert.ok(Date.now() - started < 3000, `close() returned within the grace period (${Date.now() - started} ms)`);
    smtp.setHang(null);

    const rec2 = recorder();
    const n2 = notifier(prefix, mailConfig({ retryDelay: 200 }), rec2);
    assert.equal(await n2.depth(), 1, 'handed back to the queue');
    await n2.start();
    await smtp.waitForMessages(1, 10_000);
    assert.equal(await finalState(prefix, 'sales.inflight'), 'completed');
    assert.equal(smtp.messages.length, 1);
  });

  it('a mute stage in its slot settles events as silenced: recorded in the history, not sent; the rest are mailed', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const prefix = nextPrefix();
    // Stands in for issue 14's silences: mutes stalled events, passes the others on.
    const mute: Stage = {
      name: 'mute',
      async run(delivery) {
        const silenced = delivery.batch.events.filter((e) => e.kind === 'stalled');
        const rest = delivery.batch.events.filter((e) => e.kind !== 'stalled');
        return {
          next: withEvents(delivery, rest),
          settled: silenced.length ? [{ status: 'silenced', events: silenced, detail: 'silence 42 by ops' }] : [],
        };
      },
    };
    const n = notifier(prefix, mailConfig(), rec, { mute });
    await n.start();
    await n.enqueue(fresh(cases.multi!, 'sales.muted'));
    await n.enqueue(fresh(cases.stalled!, 'sales.all-muted'));
    assert.equal(await finalState(prefix, 'sales.muted'), 'completed');
    assert.equal(await finalState(prefix, 'sales.all-muted'), 'completed');
    assert.equal(smtp.messages.length, 1, 'only the batch with unmuted events is mailed');
    assert.equal(smtp.messages[0]!.parsed.headers.get('x-batchwatch-events'), 'failed=4711; resolved=4714');
    assert.deepEqual(await statuses(prefix, 'sales.muted'), ['silenced', 'sent']);
    assert.deepEqual(await statuses(prefix, 'sales.all-muted'), ['silenced']);
    const entry = (await new NotificationHistory(client, prefix).recent()).find((e) => e.batchId === 'sales.all-muted');
    assert.equal(entry?.detail, 'silence 42 by ops');
    assert.deepEqual(
      entry?.eventIds,
      cases.stalled!.events.map((e) => e.id),
    );
    assert.ok(rec.logs.some((l) => /silenced/.test(l.msg)));
  });

  it('with mail.enabled false queues nothing and opens no SMTP connection', async () => {
    smtp = await startSmtpServer();
    const rec = recorder();
    const prefix = nextPrefix();
    const n = notifier(prefix, mailConfig({ enabled: false }), rec);
    await n.start();
    // A disabled notifier has no queue and no worker: once enqueue returned, nothing can send it later.
    await n.enqueue(fresh(cases.failed!, 'sales.off'));
    assert.equal(smtp.messages.length, 0);
    assert.equal(await n.depth(), 0);
    assert.deepEqual(await client.keys(`${prefix}:*`), []);
    assert.deepEqual(rec.counts, {});
  });
});

describe('retry policy', () => {
  it('doubles from retryDelay, capped at an hour and at the time left', () => {
    assert.equal(retryDelayMs(1, 30_000, Infinity), 30_000);
    assert.equal(retryDelayMs(2, 30_000, Infinity), 60_000);
    assert.equal(retryDelayMs(4, 30_000, Infinity), 240_000);
    assert.equal(retryDelayMs(20, 30_000, Infinity), MAX_RETRY_DELAY_MS);
    assert.equal(retryDelayMs(3, 30_000, 5_000), 5_000);
  });

  it('derives BullMQ-safe job ids (no colon) injectively', () => {
    assert.ok(!jobIdFor('sales:12').includes(':'));
    assert.notEqual(jobIdFor('a:b'), jobIdFor('a%3Ab'));
    assert.notEqual(jobIdFor('sales.1'), jobIdFor('sales:1'));
  });
});
