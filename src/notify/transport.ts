/** The SMTP transport (nodemailer): TLS with optional private CA, password or XOAUTH2 login, failures classified by cause. */
import { isIP } from 'node:net';
import { connect as tlsConnect, rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import { readCaFile } from '../config/pem-file.ts';
import { parseSmtpUrl, type SmtpTarget } from '../config/smtp-url.ts';
import type { MailConfig } from '../config/types.ts';
import { secrets as processSecrets, scrubSecrets } from '../redact/secrets.ts';
import { toDeliveryError, type FailureContext } from './delivery-error.ts';
import { OAuth2TokenSource } from './oauth2-token.ts';
import type { RenderedMessage } from './render.ts';

export { MailDeliveryError, toDeliveryError } from './delivery-error.ts';

export interface SmtpTimeouts {
  /** TCP connect (and implicit TLS handshake). */
  connection: number;
  /** Waiting for the server's 220 greeting. */
  greeting: number;
  /** Inactivity on an open connection. */
  socket: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connection: 10_000, greeting: 10_000, socket: 60_000 };

/** The part of the mail config that says how to reach the SMTP server. */
export type MailServerConfig = Pick<MailConfig, 'smtp' | 'oauth2' | 'tls'>;

export interface TransportOptions {
  timeouts?: Partial<SmtpTimeouts>;
  /** Where SMTP_USERNAME / SMTP_PASSWORD are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** For the OAuth2 token endpoint (default: global fetch). */
  fetch?: typeof fetch;
}

export interface Envelope {
  from: string;
  to: string[];
}

export interface SendResult {
  /** The server's final answer, e.g. "250 2.0.0 Ok: queued as 4F2Q1". */
  response: string;
  accepted: string[];
  rejected: string[];
  messageId: string;
}

/** What the transport is configured to do, for `check` and the start-up log. */
export interface TransportSummary {
  /** smtp://host:port or smtps://host:port, no userinfo. */
  where: string;
  /** "user@example.com" (password) or "user@example.com (XOAUTH2)"; absent without a login. */
  login?: string;
  /** Certificate verification is off (?tlsRejectUnauthorized=false). */
  insecure: boolean;
  /** mail.tls.ca, when set. */
  caFile?: string;
}

export interface MailTransport {
  readonly summary: TransportSummary;
  /** Connects, upgrades to TLS, logs in. Throws MailDeliveryError. */
  verify(): Promise<void>;
  /** Throws MailDeliveryError. */
  send(message: RenderedMessage, envelope: Envelope, signal?: AbortSignal): Promise<SendResult>;
  /** `force` also ends a connection in the middle of a delivery (that send then fails). */
  close(options?: { force?: boolean }): void;
}

/**
 * The message as it may leave: subject, text, HTML and header values scrubbed of every registered secret
 * (a ticket the server echoed into a task, a password in an error), whatever put it there.
 */
export function scrubbedMessage(message: RenderedMessage): RenderedMessage {
  if (processSecrets.size === 0) return message;
  return {
    ...message,
    subject: scrubSecrets(message.subject),
    text: scrubSecrets(message.text),
    html: scrubSecrets(message.html),
    headers: Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, scrubSecrets(value)])),
  };
}

/** Scheme, host and port of the target, without userinfo: for messages and logs. */
export function describeTarget(target: SmtpTarget): string {
  return `${target.secure ? 'smtps' : 'smtp'}://${target.host}:${target.port}`;
}

/**
 * One pooled nodemailer transport for the configured server. Throws MailDeliveryError (a configuration
 * problem) when mail.smtp, SMTP_USERNAME/SMTP_PASSWORD or mail.tls.ca cannot be used.
 */
export function createMailTransport(server: MailServerConfig, options: TransportOptions = {}): MailTransport {
  let target: SmtpTarget;
  let ca: string[] | undefined;
  try {
    target = parseSmtpUrl(server.smtp, options.env);
    // Added to the public roots, so a relay that later moves to a public certificate keeps working.
    ca = server.tls ? [...rootCertificates, readCaFile(server.tls.ca)] : undefined;
  } catch (error) {
    throw toDeliveryError(error, { where: 'mail.smtp' });
  }
  const oauth2 = server.oauth2;
  const tokens = oauth2 ? new OAuth2TokenSource(oauth2, options.fetch ? { fetch: options.fetch } : {}) : null;
  const password = oauth2 ? undefined : target.auth;
  if (password) processSecrets.add(password.pass);
  const hasLogin = Boolean(tokens || password);
  // A login must not cross the network in plain text unless the operator says so.
  const tlsForCredentials = hasLogin && !target.secure && !target.requireTLS && !target.allowPlaintextAuth;
  const timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
  const where = describeTarget(target);
  const context: FailureContext = {
    where,
    target,
    tlsForCredentials,
    ...(oauth2 ? { oauth2User: oauth2.user } : {}),
    ...(server.tls ? { caFile: server.tls.ca } : {}),
    secrets: password?.pass ? [password.pass, encodeURIComponent(password.pass)] : [],
  };
  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: 1,
    // One immediate retry on a fresh connection (a stale pooled one); further retries belong to the queue's backoff.
    maxRequeues: 1,
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: target.requireTLS || tlsForCredentials,
    tls: {
      rejectUnauthorized: target.rejectUnauthorized,
      ...(ca ? { ca } : {}),
      ...(isIP(target.host) ? {} : { servername: target.host }),
    },
    ...(oauth2
      ? { auth: { type: 'OAuth2' as const, user: oauth2.user } }
      : password
        ? { auth: { user: password.user, pass: password.pass } }
        : {}),
    connectionTimeout: timeouts.connection,
    greetingTimeout: timeouts.greeting,
    socketTimeout: timeouts.socket,
    logger: false,
    debug: false,
  });
  if (tokens) {
    // nodemailer asks with renew=true after the server rejected a token: one fresh token, one more try.
    transporter.set('oauth2_provision_cb', (_user, renew, callback) => {
      tokens.token(renew).then(
        (token) => callback(null, token.accessToken, token.expiresAt),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  const classify = async (error: unknown): Promise<Error> => {
    const greetingMissing =
      !target.secure && error instanceof Error && 'code' in error && error.code === 'ETIMEDOUT' && /greeting/i.test(error.message);
    const answersTls = greetingMissing ? await completesTlsHandshake(target, Math.min(timeouts.greeting, 5000)) : false;
    return toDeliveryError(error, { ...context, answersTls });
  };

  const summary: TransportSummary = {
    where,
    insecure: !target.rejectUnauthorized,
    ...(oauth2 ? { login: `${oauth2.user} (XOAUTH2)` } : password ? { login: password.user } : {}),
    ...(server.tls ? { caFile: server.tls.ca } : {}),
  };

  return {
    summary,
    async verify() {
      try {
        await transporter.verify();
      } catch (error) {
        throw await classify(error);
      }
    },
    async send(rendered, envelope, signal) {
      // The one exit of every mail (alerts and the test message).
      const message = scrubbedMessage(rendered);
      try {
        const info = await transporter.sendMail({
          from: envelope.from,
          to: envelope.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: message.headers,
          messageId: message.messageId,
          ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
          ...(message.references.length ? { references: message.references } : {}),
          ...(signal ? { signal } : {}),
        });
        return {
          response: String(info.response ?? ''),
          accepted: (info.accepted ?? []).map(String),
          rejected: (info.rejected ?? []).map(String),
          messageId: String(info.messageId ?? message.messageId),
        };
      } catch (error) {
        throw await classify(error);
      }
    },
    close(closeOptions) {
      transporter.close(closeOptions);
    },
  };
}

/** Whether host:port completes a TLS handshake (certificate not checked): tells an implicit-TLS port from a silent server. */
function completesTlsHandshake(target: SmtpTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false,
      ...(isIP(target.host) ? {} : { servername: target.host }),
    });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}
