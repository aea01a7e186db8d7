import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { MailConfig } from '../config/types.ts';
import { escapeHtml, isoUtc, messageIdDomain } from './format.ts';
import type { RenderedMessage } from './render.ts';
import { createMailTransport, describeTarget, parseSmtpUrl, toDeliveryError, type MailTransport, type SmtpTimeouts } from './transport.ts';

export interface SmtpCheckOptions {
  hostname?: string;
  /** Injected in tests; otherwise a transport for mail.smtp is created and closed. */
  transport?: MailTransport;
  timeouts?: Partial<SmtpTimeouts>;
  env?: NodeJS.ProcessEnv;
}

export function testMessage(host: string, to: readonly string[], now: number): RenderedMessage {
  const text = [
    'This is a test message from batchwatch.',
    '',
    `Sent from ${host} at ${isoUtc(now)} to ${to.join(', ')}.`,
    'If you can read this, alert mail from this batchwatch reaches you.',
  ].join('\n');
  return {
    subject: `[batchwatch] test message from ${host}`,
    text: `${text}\n`,
    html: `<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>${text
      .split('\n')
      .map((line) => `<p>${escapeHtml(line)}</p>`)
      .join('\n')}</body></html>\n`,
    headers: { 'X-Batchwatch-Test': 'yes', 'Auto-Submitted': 'auto-generated' },
    messageId: `<test.${now}.${randomUUID()}@${messageIdDomain(host)}>`,
    references: [],
  };
}

/** Sends one test message to mail.to; the line says what the SMTP server answered (or why it failed). */
export async function sendTestEmail(mail: MailConfig, opts: SmtpCheckOptions = {}): Promise<{ ok: boolean; line: string }> {
  const host = opts.hostname ?? osHostname();
  let where = 'mail.smtp';
  let transport: MailTransport | undefined = opts.transport;
  try {
    where = describeTarget(parseSmtpUrl(mail.smtp, opts.env));
    if (mail.to.length === 0) return { ok: false, line: 'not sent: mail.to is empty' };
    transport ??= createMailTransport(mail.smtp, { ...(opts.timeouts ? { timeouts: opts.timeouts } : {}), ...(opts.env ? { env: opts.env } : {}) });
    const result = await transport.send(testMessage(host, mail.to, Date.now()), { from: mail.from, to: mail.to });
    const rejected = result.rejected.length ? `; rejected ${result.rejected.join(', ')}` : '';
    return {
      ok: result.rejected.length === 0,
      line: `sent to ${result.accepted.join(', ')} via ${where}${rejected}: ${result.response}`,
    };
  } catch (error) {
    const failure = toDeliveryError(error, where);
    return { ok: false, line: `not sent (${failure.permanent ? 'rejected' : 'temporary failure'}): ${failure.message}` };
  } finally {
    if (transport && !opts.transport) transport.close();
  }
}

/**
 * Connects, says EHLO, upgrades to TLS when configured/offered and logs in (when credentials are set).
 * Returns a short description; throws MailDeliveryError or SmtpConfigError.
 */
export async function verifySmtp(mail: MailConfig, opts: SmtpCheckOptions = {}): Promise<string> {
  const target = parseSmtpUrl(mail.smtp, opts.env);
  const transport = opts.transport ?? createMailTransport(mail.smtp, { ...(opts.timeouts ? { timeouts: opts.timeouts } : {}), ...(opts.env ? { env: opts.env } : {}) });
  try {
    await transport.verify();
  } finally {
    if (!opts.transport) transport.close();
  }
  return target.auth ? `reachable, logged in as ${target.auth.user}` : 'reachable';
}
