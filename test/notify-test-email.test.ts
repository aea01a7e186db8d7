import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MailConfig } from '../src/config/types.ts';
import { MailDeliveryError } from '../src/notify/transport.ts';
import { sendTestEmail, verifySmtp } from '../src/notify/test-email.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';

describe('send-test-email and check', () => {
  let smtp: TestSmtpServer | undefined;
  afterEach(async () => {
    await smtp?.stop();
  });
  const config = (url: string, overrides: Partial<MailConfig> = {}): MailConfig => ({
    enabled: true,
    smtp: url,
    from: 'batchwatch <bw@example.com>',
    to: ['ops@example.com', 'oncall@example.com'],
    retryDelay: 1000,
    retryFor: 60_000,
    ...overrides,
  });

  it('sends one message to mail.to and reports the server answer', async () => {
    smtp = await startSmtpServer();
    const result = await sendTestEmail(config(smtp.url), { hostname: 'bw-host' });
    assert.equal(result.ok, true);
    assert.match(
      result.line,
      /^sent to ops@example\.com, oncall@example\.com via smtp:\/\/127\.0\.0\.1:\d+: 250 2\.0\.0 Ok: queued as test-1$/,
    );
    const [m] = await smtp.waitForMessages(1);
    assert.equal(m!.parsed.subject, '[batchwatch] test message from bw-host');
    assert.deepEqual(m!.envelope.rcptTo, ['ops@example.com', 'oncall@example.com']);
    assert.match(m!.parsed.text ?? '', /test message from batchwatch/);
    assert.match(
      m!.parsed.messageId ?? '',
      /^<test\.\d+\.[0-9a-f-]+@example\.com>$/,
      "Message-ID in the sender's domain, like alert mails",
    );
  });

  it('says why it failed, without the password, when the server is down or rejects', async () => {
    smtp = await startSmtpServer();
    await smtp.stop();
    const down = await sendTestEmail(config(`smtp://u:Top-Secret@127.0.0.1:${smtp.port}`), { timeouts: { connection: 1000 } });
    assert.equal(down.ok, false);
    assert.match(down.line, /^not sent \(temporary failure\): .*ECONNREFUSED/);
    assert.ok(!down.line.includes('Top-Secret'));

    await smtp.restart();
    smtp.setRejectRecipients(/./);
    const rejected = await sendTestEmail(config(smtp.url));
    assert.equal(rejected.ok, false);
    assert.match(rejected.line, /^not sent \(rejected\): .*550/);
  });

  it('verifySmtp reports a reachable server and throws a MailDeliveryError for an unreachable one', async () => {
    smtp = await startSmtpServer({ authRequired: { user: 'bw', pass: 'pw' } });
    assert.equal(await verifySmtp(config(`smtp://bw:pw@127.0.0.1:${smtp.port}?allowPlaintextAuth=true`)), 'reachable, logged in as bw');
    await assert.rejects(
      verifySmtp(config(`smtp://bw:nope@127.0.0.1:${smtp.port}?allowPlaintextAuth=true`)),
      (error: unknown) => error instanceof MailDeliveryError && error.code === 'EAUTH' && error.kind === 'configuration',
    );
    await smtp.stop();
    await assert.rejects(verifySmtp(config(smtp.url), { timeouts: { connection: 1000 } }), MailDeliveryError);
  });
});
