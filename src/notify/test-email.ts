/** `send-test-email` and the SMTP line of `check`: one test message, or a login without sending, explained by cause when it fails. */
import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { MailConfig } from '../config/types.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import type { DeliveryFailureKind } from './delivery-error.ts';
import { addressDomain, escapeHtml, isoUtc, messageIdDomain } from './format.ts';
import type { RenderedMessage } from './render.ts';
import { createMailTransport, toDeliveryError, type MailTransport, type SmtpTimeouts, type TransportOptions } from './transport.ts';

export interface SmtpCheckOptions {
  hostname?: string;
  /** Injected in tests; otherwise a transport for mail.smtp is created and closed. */
  transport?: MailTransport;
  timeouts?: Partial<SmtpTimeouts>;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

const FAILURE_WORDS: Record<DeliveryFailureKind, string> = {
  temporary: 'temporary failure',
  rejected: 'rejected',
  configuration: 'configuration problem',
};

/** The test mail. Its Message-ID uses the sender's domain, like alert mails (`idDomain`), else the host name. */
export function testMessage(host: string, to: readonly string[], now: number, idDomain?: string): RenderedMessage {
  const text = [
    'This is a test message from batchwatch.',
    '',
    `Sent from ${host} at ${isoUtc(now)} to ${to.join(', ')}.`,
    'If you can read this, alert mail from this batchwatch reaches you.',
  ].join('\n');
  return {
    subject: `[batchwatch] test message from ${host}`,
    text: `${text}\n`,
    html: `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"></head><body>${text
      .split('\n')
      .map((line) => `<p>${escapeHtml(line)}</p>`)
      .join('\n')}</body></html>\n`,
    headers: { 'X-Batchwatch-Test': 'yes', 'Auto-Submitted': 'auto-generated' },
    messageId: `<test.${now}.${randomUUID()}@${messageIdDomain(idDomain ?? host)}>`,
    references: [],
  };
}

function transportFor(mail: MailConfig, opts: SmtpCheckOptions): MailTransport {
  const options: TransportOptions = {
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
  return opts.transport ?? createMailTransport(mail, options);
}

/** Sends one test message to mail.to; the line says what the SMTP server answered, or why it failed and what to change. */
export async function sendTestEmail(mail: MailConfig, opts: SmtpCheckOptions = {}): Promise<{ ok: boolean; line: string }> {
  const host = opts.hostname ?? osHostname();
  let transport: MailTransport | undefined;
  try {
    if (mail.to.length === 0) return { ok: false, line: 'not sent: mail.to is empty' };
    transport = transportFor(mail, opts);
    const message = testMessage(host, mail.to, Date.now(), addressDomain(mail.from));
    const result = await transport.send(message, { from: mail.from, to: mail.to });
    const rejected = result.rejected.length ? `; rejected ${result.rejected.join(', ')}` : '';
    return {
      ok: result.rejected.length === 0,
      line: scrubSecrets(
        `sent to ${result.accepted.join(', ')} via ${transport.summary.where}${insecureNote(transport)}${rejected}: ${result.response}`,
      ),
    };
  } catch (error) {
    const failure = toDeliveryError(error, 'mail.smtp');
    return { ok: false, line: scrubSecrets(`not sent (${FAILURE_WORDS[failure.kind]}): ${failure.message}`) };
  } finally {
    if (transport && !opts.transport) transport.close();
  }
}

/**
 * Connects, says EHLO, upgrades to TLS when configured/offered and logs in (when credentials are set).
 * Returns a short description; throws MailDeliveryError (by cause: temporary, rejected or configuration).
 */
export async function verifySmtp(mail: MailConfig, opts: SmtpCheckOptions = {}): Promise<string> {
  let transport: MailTransport;
  try {
    transport = transportFor(mail, opts);
  } catch (error) {
    throw toDeliveryError(error, 'mail.smtp');
  }
  try {
    await transport.verify();
  } finally {
    if (!opts.transport) transport.close();
  }
  const { login, caFile } = transport.summary;
  const trust = caFile ? `, trusting mail.tls.ca ${caFile}` : '';
  return `${login ? `reachable, logged in as ${login}` : 'reachable'}${trust}${insecureNote(transport)}`;
}

function insecureNote(transport: MailTransport): string {
  return transport.summary.insecure ? ' — warning: certificate NOT verified (tlsRejectUnauthorized=false)' : '';
}
