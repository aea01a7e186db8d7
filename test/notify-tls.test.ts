import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MailConfig } from '../src/config/types.ts';
import { renderBatch } from '../src/notify/render.ts';
import { sendTestEmail, verifySmtp } from '../src/notify/test-email.ts';
import { createMailTransport, MailDeliveryError, type MailServerConfig } from '../src/notify/transport.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';
import { cases } from './notify-fixtures.ts';

const envelope = { from: 'batchwatch <batchwatch@example.com>', to: ['ops@example.com'] };
const message = renderBatch(cases.failed!, { hostname: 'bw-host' });
const timeouts = { connection: 2000, greeting: 1500, socket: 5000 };

async function failure(server: MailServerConfig): Promise<MailDeliveryError> {
  const transport = createMailTransport(server, { timeouts });
  try {
    await transport.send(message, envelope);
  } catch (error) {
    assert.ok(error instanceof MailDeliveryError, `expected MailDeliveryError, got ${String(error)}`);
    return error;
  } finally {
    transport.close();
  }
  assert.fail('expected the send to fail');
}

describe('SMTP over TLS with a private CA, and TLS-mode mistakes', () => {
  let pki: TestPki;
  const servers: TestSmtpServer[] = [];
  const server = async (options: Parameters<typeof startSmtpServer>[0]) => {
    const started = await startSmtpServer(options);
    servers.push(started);
    return started;
  };

  before(() => {
    pki = makeTestPki();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    pki.remove();
  });

  it('trusts a server certificate signed by the CA in mail.tls.ca, with verification on (STARTTLS and smtps://)', async () => {
    const starttls = await server({ tls: { ...pki.server, implicit: false } });
    const implicit = await server({ tls: { ...pki.server, implicit: true } });
    for (const smtp of [starttls, implicit]) {
      const transport = createMailTransport({ smtp: smtp.url, tls: { ca: pki.caFile } }, { timeouts });
      await transport.send(message, envelope);
      transport.close();
      const [received] = await smtp.waitForMessages(1);
      assert.equal(received!.secure, true);
    }
    const mail: MailConfig = {
      enabled: true,
      smtp: starttls.url,
      tls: { ca: pki.caFile },
      from: envelope.from,
      to: envelope.to,
      retryDelay: 1000,
      retryFor: 60_000,
    };
    assert.equal(await verifySmtp(mail, { timeouts }), `reachable, trusting mail.tls.ca ${pki.caFile}`);
  });

  it('an untrusted certificate is a configuration problem that names the host and mail.tls.ca', async () => {
    const smtp = await server({ tls: { ...pki.server, implicit: false } });
    const error = await failure({ smtp: smtp.url });
    assert.equal(error.kind, 'configuration');
    assert.equal(error.problem?.cause, 'certificate');
    assert.match(error.message, /the certificate of 127\.0\.0\.1 is not trusted \(.*\): set mail\.tls\.ca to the PEM file of the CA/);
    assert.equal(smtp.messages.length, 0);

    // A CA file that does not sign this server's certificate: the message says so.
    const other = await server({ tls: { ...pki.selfSigned, implicit: true } });
    const wrongCa = await failure({ smtp: other.url, tls: { ca: pki.caFile } });
    assert.equal(wrongCa.problem?.cause, 'certificate');
    assert.match(wrongCa.message, /not signed by a CA in mail\.tls\.ca/);
  });

  it('tlsRejectUnauthorized=false still works, explicitly, and check says verification is off', async () => {
    const smtp = await server({ tls: { ...pki.selfSigned, implicit: true } });
    const mail: MailConfig = {
      enabled: true,
      smtp: `${smtp.url}?tlsRejectUnauthorized=false`,
      from: envelope.from,
      to: envelope.to,
      retryDelay: 1000,
      retryFor: 60_000,
    };
    assert.match(await verifySmtp(mail, { timeouts }), /^reachable — warning: certificate NOT verified \(tlsRejectUnauthorized=false\)$/);
  });

  it('smtps:// against a STARTTLS port says: use smtp:// for that port', async () => {
    const smtp = await server({ tls: { ...pki.server, implicit: false } });
    const error = await failure({ smtp: `smtps://127.0.0.1:${smtp.port}`, tls: { ca: pki.caFile } });
    assert.equal(error.kind, 'configuration');
    assert.equal(error.problem?.cause, 'tls-mode');
    assert.match(
      error.message,
      new RegExp(`smtps:// .*127\\.0\\.0\\.1:${smtp.port} answers in plain text .*use smtp:// for port ${smtp.port}`),
    );
    assert.doesNotMatch(error.message, /wrong version number/, 'the OpenSSL text is not the message');
  });

  it('smtp:// against an implicit-TLS port says: use smtps:// for that port', async () => {
    const smtp = await server({ tls: { ...pki.server, implicit: true } });
    const error = await failure({ smtp: `smtp://127.0.0.1:${smtp.port}`, tls: { ca: pki.caFile } });
    assert.equal(error.kind, 'configuration');
    assert.equal(error.problem?.cause, 'tls-mode');
    assert.match(error.message, new RegExp(`expects TLS from the start .*use smtps:// for port ${smtp.port}`));
  });

  it('refuses to send a login in plain text unless allowPlaintextAuth=true; says so', async () => {
    const smtp = await server({ authRequired: { user: 'bw', pass: 'Plain-Text-Secret' } });
    const refused = await failure({ smtp: `smtp://bw:Plain-Text-Secret@127.0.0.1:${smtp.port}` });
    assert.equal(refused.kind, 'configuration');
    assert.equal(refused.problem?.cause, 'plaintext-auth');
    assert.match(refused.message, /offers no STARTTLS, so the login .* would go in plain text; refused: .*allowPlaintextAuth=true/);
    assert.equal(smtp.logins.length, 0, 'the password never went over the wire');
    assert.doesNotMatch(refused.message, /Plain-Text-Secret/);

    const allowed = createMailTransport(
      { smtp: `smtp://bw:Plain-Text-Secret@127.0.0.1:${smtp.port}?allowPlaintextAuth=true` },
      { timeouts },
    );
    await allowed.send(message, envelope);
    allowed.close();
    assert.deepEqual(
      smtp.logins.map((l) => l.ok),
      [true],
    );
  });

  it('a server that wants a login we do not have: configuration problem naming where credentials go', async () => {
    const smtp = await server({ authRequired: { user: 'bw', pass: 'pw' } });
    const mail: MailConfig = { enabled: true, smtp: smtp.url, from: envelope.from, to: envelope.to, retryDelay: 1000, retryFor: 60_000 };
    const result = await sendTestEmail(mail, { timeouts, env: {} });
    assert.equal(result.ok, false);
    assert.match(
      result.line,
      /^not sent \(configuration problem\): .*requires a login .*SMTP_USERNAME \/ SMTP_PASSWORD, or configure mail\.oauth2/,
    );
  });
});
