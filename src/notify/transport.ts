import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { RenderedMessage } from './render.ts';
import { redactUrl } from '../redact/config.ts';

export interface SmtpTimeouts {
  /** TCP connect (and implicit TLS handshake). */
  connection: number;
  /** Waiting for the server's 220 greeting. */
  greeting: number;
  /** Inactivity on an open connection. */
  socket: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connection: 10_000, greeting: 10_000, socket: 60_000 };

export interface SmtpTarget {
  host: string;
  port: number;
  /** true: implicit TLS (smtps://); false: plain connection upgraded with STARTTLS when the server offers it. */
  secure: boolean;
  requireTLS: boolean;
  rejectUnauthorized: boolean;
  auth?: { user: string; pass: string };
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

export interface MailTransport {
  verify(): Promise<void>;
  send(message: RenderedMessage, envelope: Envelope, signal?: AbortSignal): Promise<SendResult>;
  /** `force` also ends a connection in the middle of a delivery (that send then fails). */
  close(options?: { force?: boolean }): void;
}

export class SmtpConfigError extends Error {
  override name = 'SmtpConfigError';
}

/** A send or verify that failed. `permanent`: retrying the same message would get the same answer. */
export class MailDeliveryError extends Error {
  override name = 'MailDeliveryError';
  readonly permanent: boolean;
  readonly code: string | undefined;
  readonly responseCode: number | undefined;
  readonly response: string | undefined;
  readonly rejected: string[];

  constructor(
    message: string,
    details: { permanent: boolean; code?: string | undefined; responseCode?: number | undefined; response?: string | undefined; rejected?: string[] },
  ) {
    super(message);
    this.permanent = details.permanent;
    this.code = details.code;
    this.responseCode = details.responseCode;
    this.response = details.response;
    this.rejected = details.rejected ?? [];
  }
}

const TRUE_VALUES = new Set(['1', 'true', 'yes']);
const FALSE_VALUES = new Set(['0', 'false', 'no']);

/**
 * smtp://[user[:password]@]host[:port] (STARTTLS when offered, port 587) or smtps://... (implicit TLS, port 465).
 * Userinfo is URL-decoded. Without userinfo, SMTP_USERNAME/SMTP_PASSWORD from the environment are used.
 * Query options: requireTLS=true (refuse to send without STARTTLS), tlsRejectUnauthorized=false (self-signed relay).
 */
export function parseSmtpUrl(smtpUrl: string, env: NodeJS.ProcessEnv = process.env): SmtpTarget {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new SmtpConfigError(`mail.smtp is not a URL (expected smtp://host:port or smtps://host:port): ${redactUrl(smtpUrl)}`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new SmtpConfigError(`mail.smtp must start with smtp:// or smtps://, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new SmtpConfigError('mail.smtp has no host');
  const secure = url.protocol === 'smtps:';
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = url.searchParams.get(name);
    if (raw === null) return fallback;
    if (TRUE_VALUES.has(raw.toLowerCase())) return true;
    if (FALSE_VALUES.has(raw.toLowerCase())) return false;
    throw new SmtpConfigError(`mail.smtp option ${name} must be true or false`);
  };
  const user = url.username ? decodeURIComponent(url.username) : (env.SMTP_USERNAME ?? '');
  const pass = url.password ? decodeURIComponent(url.password) : (env.SMTP_PASSWORD ?? '');
  const target: SmtpTarget = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: flag('requireTLS', false),
    rejectUnauthorized: flag('tlsRejectUnauthorized', true),
  };
  if (user) target.auth = { user, pass };
  return target;
}

/** The URL with its password replaced, for messages and logs. */
export function describeTarget(target: SmtpTarget): string {
  return `${target.secure ? 'smtps' : 'smtp'}://${target.host}:${target.port}`;
}

/** One pooled nodemailer transport for the configured server. */
export function createMailTransport(smtpUrl: string, options: { timeouts?: Partial<SmtpTimeouts>; env?: NodeJS.ProcessEnv } = {}): MailTransport {
  const target = parseSmtpUrl(smtpUrl, options.env);
  const timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
  const secrets = target.auth?.pass ? [target.auth.pass, encodeURIComponent(target.auth.pass)] : [];
  const where = describeTarget(target);
  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: 1,
    // One immediate retry on a fresh connection (a stale pooled one); further retries belong to the queue's backoff.
    maxRequeues: 1,
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: target.requireTLS,
    tls: { rejectUnauthorized: target.rejectUnauthorized, ...(isIP(target.host) ? {} : { servername: target.host }) },
    ...(target.auth ? { auth: { user: target.auth.user, pass: target.auth.pass } } : {}),
    connectionTimeout: timeouts.connection,
    greetingTimeout: timeouts.greeting,
    socketTimeout: timeouts.socket,
    logger: false,
    debug: false,
  });

  return {
    async verify() {
      try {
        await transporter.verify();
      } catch (error) {
        throw toDeliveryError(error, where, secrets);
      }
    },
    async send(message, envelope, signal) {
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
        throw toDeliveryError(error, where, secrets);
      }
    },
    close(closeOptions) {
      transporter.close(closeOptions);
    },
  };
}

/** Codes whose failure does not change on a retry of the same message. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS', 'EOTP']);
/** Credentials are fixed by the operator (and a restart), so mail keeps being retried until then. */
const CREDENTIAL_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);

function field<T>(value: unknown, key: string, guard: (v: unknown) => v is T): T | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return guard(v) ? v : undefined;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/** Classifies a nodemailer failure and scrubs secrets from what it says. */
export function toDeliveryError(error: unknown, where: string, secrets: readonly string[] = []): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const code = field(error, 'code', isString);
  const responseCode = field(error, 'responseCode', isNumber);
  const flagged = field(error, 'permanent', isBoolean);
  const rejected = (field(error, 'rejected', isArray) ?? []).map(String);
  let permanent: boolean;
  if (code && CREDENTIAL_CODES.has(code)) permanent = false;
  else if (flagged !== undefined) permanent = flagged;
  else if (responseCode !== undefined) permanent = responseCode >= 500 && responseCode < 600 && responseCode !== 503;
  else permanent = code !== undefined && PERMANENT_CODES.has(code);
  if (code === 'EENVELOPE' && rejected.length > 0) {
    const perRecipient = (field(error, 'rejectedErrors', isArray) ?? []).map((e) => field(e, 'responseCode', isNumber));
    if (perRecipient.some((c) => c !== undefined && c >= 400 && c < 500)) permanent = false;
  }
  const scrub = (text: string): string => secrets.reduce((acc, secret) => (secret ? acc.split(secret).join('***') : acc), text);
  const raw = error instanceof Error ? error.message : String(error);
  const response = field(error, 'response', isString);
  return new MailDeliveryError(scrub(`SMTP ${where}: ${raw}`), {
    permanent,
    code,
    responseCode,
    response: response === undefined ? undefined : scrub(response),
    rejected,
  });
}
