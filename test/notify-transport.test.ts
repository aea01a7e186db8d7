import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderBatch } from '../src/notify/render.ts';
import { redactUrl } from '../src/redact/config.ts';
import { parseSmtpUrl } from '../src/config/smtp-url.ts';
import { createMailTransport, MailDeliveryError, type MailTransport } from '../src/notify/transport.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { cases } from './notify-fixtures.ts';

const envelope = { from: 'batchwatch <batchwatch@example.com>', to: ['ops@example.com'] };
const message = renderBatch(cases.failed!, { hostname: 'bw-host' });

async function expectDeliveryError(promise: Promise<unknown>): Promise<MailDeliveryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MailDeliveryError, `expected MailDeliveryError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the send to fail');
}

describe('parseSmtpUrl', () => {
  it('reads smtp:// (STARTTLS, 587) and smtps:// (implicit TLS, 465) with URL-decoded userinfo', () => {
    assert.deepEqual(parseSmtpUrl('smtp://mail.example.com', {}), {
      host: 'mail.example.com',
      port: 587,
      secure: false,
      requireTLS: false,
      rejectUnauthorized: true,
      allowPlaintextAuth: false,
    });
    const s = parseSmtpUrl('smtps://ops%40example.com:p%40ss%3Aw%2Frd@mail.example.com', {});
    assert.equal(s.port, 465);
    assert.equal(s.secure, true);
    assert.deepEqual(s.auth, { user: 'ops@example.com', pass: 'p@ss:w/rd' });
  });

  it('falls back to SMTP_USERNAME/SMTP_PASSWORD and reads TLS options', () => {
    const s = parseSmtpUrl('smtp://relay:2525?requireTLS=true&tlsRejectUnauthorized=false', { SMTP_USERNAME: 'u', SMTP_PASSWORD: 'p' });
    assert.deepEqual(s.auth, { user: 'u', pass: 'p' });
    assert.equal(s.port, 2525);
    assert.equal(s.requireTLS, true);
    assert.equal(s.rejectUnauthorized, false);
  });

  it('rejects other schemes and never echoes the password', () => {
    assert.throws(() => parseSmtpUrl('http://u:secret@host', {}), /smtp:\/\/ or smtps:\/\//);
    assert.equal(redactUrl('smtp://user:s3cret@host:587'), 'smtp://user:***@host:587');
  });
});

describe('SMTP transport against a real SMTP server', () => {
  let smtp: TestSmtpServer;
  let transport: MailTransport;

  before(async () => {
    smtp = await startSmtpServer();
    transport = createMailTransport({ smtp: smtp.url }, { timeouts: { connection: 1000, greeting: 1000, socket: 5000 } });
  });
  after(async () => {
    transport.close();
    await smtp.stop();
  });

  it('verifies and sends both parts, the events header and the thread headers; returns the server answer', async () => {
    await transport.verify();
    const result = await transport.send(message, envelope);
    assert.match(result.response, /^250 2\.0\.0 Ok: queued as test-\d+/);
    assert.deepEqual(result.accepted, ['ops@example.com']);
    const [received] = await smtp.waitForMessages(1);
    const parsed = received!.parsed;
    assert.equal(parsed.subject, message.subject);
    assert.equal(parsed.headers.get('x-batchwatch-events'), 'failed=4711');
    assert.equal(parsed.headers.get('x-batchwatch-schedule'), 'sales');
    assert.equal(parsed.messageId, message.messageId);
    assert.equal(parsed.inReplyTo, '<task-4711.sales@bw-host>');
    assert.equal(parsed.references, '<task-4711.sales@bw-host>');
    assert.equal(parsed.text, message.text);
    assert.equal(parsed.html, message.html);
    assert.deepEqual(received!.envelope, { mailFrom: 'batchwatch@example.com', rcptTo: ['ops@example.com'] });
  });

  it('classifies 421 as transient and 550 for every recipient as permanent', async () => {
    smtp.setFailure({ code: 421, message: '4.3.2 Service shutting down', times: 3 });
    const transient = await expectDeliveryError(transport.send(message, envelope));
    assert.equal(transient.permanent, false);
    assert.equal(transient.responseCode, 421);
    smtp.setFailure(null);

    smtp.setRejectRecipients(/@example\.com$/);
    const rejected = await expectDeliveryError(transport.send(message, envelope));
    smtp.setRejectRecipients(null);
    assert.equal(rejected.permanent, true);
    assert.equal(rejected.responseCode, 550);
    assert.match(rejected.message, /Recipient address rejected/);
  });

  it('delivers to the remaining recipients and reports the rejected one', async () => {
    smtp.setRejectRecipients(/^nobody@/);
    const result = await transport.send(message, { from: envelope.from, to: ['ops@example.com', 'nobody@example.com'] });
    smtp.setRejectRecipients(null);
    assert.deepEqual(result.accepted, ['ops@example.com']);
    assert.deepEqual(result.rejected, ['nobody@example.com']);
  });
});

describe('SMTP transport failures', () => {
  it('classifies connection refused as transient', async () => {
    const smtp = await startSmtpServer();
    await smtp.stop();
    const transport = createMailTransport({ smtp: smtp.url }, { timeouts: { connection: 1000 } });
    const error = await expectDeliveryError(transport.send(message, envelope));
    transport.close();
    assert.equal(error.permanent, false);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('gives up waiting for a greeting after the greeting timeout (transient)', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    const transport = createMailTransport({ smtp: `smtp://127.0.0.1:${port}` }, { timeouts: { connection: 1000, greeting: 300 } });
    const started = Date.now();
    const error = await expectDeliveryError(transport.send(message, envelope));
    transport.close();
    silent.close();
    assert.ok(Date.now() - started < 3000, 'fails fast');
    assert.equal(error.permanent, false);
    assert.equal(error.code, 'ETIMEDOUT');
  });

  it('logs in with URL-encoded credentials and never puts the password in an error', async () => {
    const pass = 'p@ss:w/rd%';
    const smtp = await startSmtpServer({ authRequired: { user: 'ops@example.com', pass } });
    // This test server offers no STARTTLS: a login in plain text needs the operator's explicit consent.
    const good = createMailTransport({
      smtp: `smtp://${encodeURIComponent('ops@example.com')}:${encodeURIComponent(pass)}@127.0.0.1:${smtp.port}?allowPlaintextAuth=true`,
    });
    await good.send(message, envelope);
    good.close();
    const [received] = await smtp.waitForMessages(1);
    assert.equal(received!.user, 'ops@example.com');

    const wrong = 'Wr0ng-Secret';
    const bad = createMailTransport({ smtp: `smtp://ops:${wrong}@127.0.0.1:${smtp.port}?allowPlaintextAuth=true` });
    const error = await expectDeliveryError(bad.send(message, envelope));
    bad.close();
    await smtp.stop();
    assert.equal(error.code, 'EAUTH');
    assert.equal(error.permanent, false, 'credentials are fixable: the mail is not rejected');
    assert.equal(error.kind, 'configuration', 'a refused login is a configuration problem, not an outage');
    assert.equal(error.problem?.cause, 'authentication');
    assert.match(error.message, /refused the login as ops .*mail\.smtp.*SMTP_PASSWORD/);
    assert.ok(!error.message.includes(wrong) && !(error.response ?? '').includes(wrong));
  });
});

describe('SMTP transport with TLS', () => {
  let dir: string;
  let tls: { key: string; cert: string };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bw-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('smtps:// uses implicit TLS', async () => {
    const smtp = await startSmtpServer({ tls: { ...tls, implicit: true } });
    const transport = createMailTransport({ smtp: `${smtp.url}?tlsRejectUnauthorized=false` });
    await transport.send(message, envelope);
    transport.close();
    const [received] = await smtp.waitForMessages(1);
    await smtp.stop();
    assert.equal(received!.secure, true);
  });

  it('smtp:// upgrades with STARTTLS when the server offers it', async () => {
    const smtp = await startSmtpServer({ tls: { ...tls, implicit: false } });
    const transport = createMailTransport({ smtp: `${smtp.url}?tlsRejectUnauthorized=false` });
    await transport.send(message, envelope);
    transport.close();
    const [received] = await smtp.waitForMessages(1);
    await smtp.stop();
    assert.equal(received!.secure, true);
  });

  it('refuses a self-signed certificate by default: a configuration problem naming mail.tls.ca', async () => {
    const smtp = await startSmtpServer({ tls: { ...tls, implicit: true } });
    const transport = createMailTransport({ smtp: smtp.url }, { timeouts: { connection: 2000, greeting: 2000 } });
    const error = await expectDeliveryError(transport.send(message, envelope));
    transport.close();
    await smtp.stop();
    assert.equal(error.permanent, false, 'the mail itself is not rejected');
    assert.equal(error.kind, 'configuration');
    assert.equal(error.problem?.cause, 'certificate');
    assert.match(error.message, /certificate of 127\.0\.0\.1 is not trusted .*self-signed.*set mail\.tls\.ca/);
  });
});
