/** Why a send or verify failed, by cause: temporary (retry), rejected (never retry this mail) or a configuration problem (pause). */
import type { SmtpTarget } from '../config/smtp-url.ts';
import { SmtpUrlError } from '../config/smtp-url.ts';
import { CaFileError } from '../config/pem-file.ts';
import { scrubSecrets } from '../redact/secrets.ts';
import type { MailProblem } from './mail-problem.ts';
import { OAuth2TokenError } from './oauth2-token.ts';

/**
 * temporary: refused, timeouts, 4xx, an unreachable token endpoint — retried with backoff until mail.retryFor.
 * rejected: the server refused this message for good (5xx) — not retried.
 * configuration: no retry helps until the operator (or the server's admin) changes something — delivery pauses.
 */
export type DeliveryFailureKind = 'temporary' | 'rejected' | 'configuration';

export class MailDeliveryError extends Error {
  override name = 'MailDeliveryError';
  readonly kind: DeliveryFailureKind;
  readonly code: string | undefined;
  readonly responseCode: number | undefined;
  readonly response: string | undefined;
  readonly rejected: string[];
  /** Set for kind 'configuration'. */
  readonly problem: MailProblem | undefined;

  constructor(
    message: string,
    details: {
      kind: DeliveryFailureKind;
      code?: string | undefined;
      responseCode?: number | undefined;
      response?: string | undefined;
      rejected?: string[];
      problem?: MailProblem;
    },
  ) {
    super(message);
    this.kind = details.kind;
    this.code = details.code;
    this.responseCode = details.responseCode;
    this.response = details.response;
    this.rejected = details.rejected ?? [];
    this.problem = details.problem;
  }

  /** Retrying the same message would get the same answer. */
  get permanent(): boolean {
    return this.kind === 'rejected';
  }
}

/** What the transport knows about the attempt, so a failure can be explained in the operator's terms. */
export interface FailureContext {
  /** smtp://host:port (no userinfo), named in messages. */
  where: string;
  target?: SmtpTarget;
  /** batchwatch switched requireTLS on because credentials must not go in plain text. */
  tlsForCredentials?: boolean;
  /** The XOAUTH2 user, when mail.oauth2 is configured. */
  oauth2User?: string;
  /** mail.tls.ca, when configured. */
  caFile?: string;
  /** A plain connection got no greeting, but the port completes a TLS handshake: smtp:// against an implicit-TLS port. */
  answersTls?: boolean;
  /** Extra strings to scrub (the process-wide secrets are always scrubbed). */
  secrets?: readonly string[];
}

/** Codes whose failure does not change on a retry of the same message. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS', 'EOTP']);
/** TLS verification failures: the certificate chain or name does not check out. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
]);
const EXPIRED_CERT_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** Answers to AUTH that mean "these credentials are not accepted" (454 is a temporary failure). */
const AUTH_REFUSED_CODES = new Set([530, 534, 535, 538]);

function field<T>(value: unknown, key: string, guard: (v: unknown) => v is T): T | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return guard(v) ? v : undefined;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/** Classifies a nodemailer (or token endpoint) failure and scrubs secrets from what it says. */
export function toDeliveryError(error: unknown, context: FailureContext | string): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const ctx: FailureContext = typeof context === 'string' ? { where: context } : context;
  const scrub = (text: string): string =>
    scrubSecrets((ctx.secrets ?? []).reduce((acc, secret) => (secret ? acc.split(secret).join('***') : acc), text));
  const code = field(error, 'code', isString);
  const responseCode = field(error, 'responseCode', isNumber);
  const rejected = (field(error, 'rejected', isArray) ?? []).map(String);
  const rawResponse = field(error, 'response', isString);
  const response = rawResponse === undefined ? undefined : scrub(rawResponse);
  const raw = scrub(error instanceof Error ? error.message : String(error));
  const details = { code, responseCode, response, rejected };

  const problem = configurationProblem(error, ctx, { code, responseCode, raw, response });
  if (problem) {
    const safe = { cause: problem.cause, message: scrub(problem.message) };
    return new MailDeliveryError(`SMTP ${ctx.where}: ${safe.message}`, { ...details, kind: 'configuration', problem: safe });
  }
  if (error instanceof OAuth2TokenError) return new MailDeliveryError(`SMTP ${ctx.where}: ${raw}`, { ...details, kind: 'temporary' });

  const flagged = field(error, 'permanent', isBoolean);
  let permanent: boolean;
  if (flagged !== undefined) permanent = flagged;
  else if (responseCode !== undefined) permanent = responseCode >= 500 && responseCode < 600 && responseCode !== 503;
  else permanent = code !== undefined && PERMANENT_CODES.has(code);
  if (code === 'EENVELOPE' && rejected.length > 0) {
    const perRecipient = (field(error, 'rejectedErrors', isArray) ?? []).map((e) => field(e, 'responseCode', isNumber));
    if (perRecipient.some((c) => c !== undefined && c >= 400 && c < 500)) permanent = false;
  }
  // Only a message-level answer is a rejection of this mail; a failed connection or login is not.
  if (code === 'EAUTH' || code === 'ETLS' || code === 'ECONNECTION' || code === 'ESOCKET' || code === 'ETIMEDOUT' || code === 'EDNS')
    permanent = false;
  return new MailDeliveryError(`SMTP ${ctx.where}: ${raw}`, { ...details, kind: permanent ? 'rejected' : 'temporary' });
}

function configurationProblem(
  error: unknown,
  ctx: FailureContext,
  seen: { code: string | undefined; responseCode: number | undefined; raw: string; response: string | undefined },
): MailProblem | undefined {
  const target = ctx.target;
  const host = target?.host ?? ctx.where;
  const hostPort = target ? `${target.host}:${target.port}` : ctx.where;
  const tlsCode = field(error, 'originalCode', isString) ?? seen.code;

  if (error instanceof SmtpUrlError) return { cause: 'smtp-url', message: `mail.smtp ${error.message}` };
  if (error instanceof CaFileError) return { cause: 'certificate', message: `mail.tls.ca: ${error.message}` };
  if (error instanceof OAuth2TokenError) return error.refused ? { cause: 'authentication', message: error.message } : undefined;

  if (tlsCode !== undefined && UNTRUSTED_CERT_CODES.has(tlsCode)) {
    const trusted = ctx.caFile ? `it is not signed by a CA in mail.tls.ca (${ctx.caFile}): point mail.tls.ca at` : 'set mail.tls.ca to';
    return {
      cause: 'certificate',
      message: `the certificate of ${host} is not trusted (${seen.raw}): ${trusted} the PEM file of the CA that signed it (or use NODE_EXTRA_CA_CERTS)`,
    };
  }
  if (tlsCode === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      cause: 'certificate',
      message: `the certificate of the SMTP server is not issued for ${host} (${seen.raw}): write in mail.smtp the host name the certificate names`,
    };
  }
  if (tlsCode !== undefined && EXPIRED_CERT_CODES.has(tlsCode)) {
    return {
      cause: 'certificate',
      message: `the certificate of ${host} is not valid now (${seen.raw}): the server's certificate must be renewed`,
    };
  }
  if (target?.secure && (tlsCode === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(seen.raw))) {
    return {
      cause: 'tls-mode',
      message: `mail.smtp says smtps:// (TLS from the start), but ${hostPort} answers in plain text (a STARTTLS port): use smtp:// for port ${target.port}`,
    };
  }
  if (target && !target.secure && ctx.answersTls) {
    return {
      cause: 'tls-mode',
      message: `mail.smtp says smtp://, but ${hostPort} expects TLS from the start (implicit TLS): use smtps:// for port ${target.port}`,
    };
  }
  if (seen.code === 'ETLS' && seen.responseCode !== undefined && target && !target.secure) {
    if (ctx.tlsForCredentials) {
      return {
        cause: 'plaintext-auth',
        message:
          `${hostPort} offers no STARTTLS, so the login (${ctx.oauth2User ? 'mail.oauth2' : 'mail.smtp user:password or SMTP_PASSWORD'}) would go in plain text; refused: ` +
          'use smtps:// or a server with STARTTLS, or add ?allowPlaintextAuth=true to mail.smtp to allow it',
      };
    }
    return {
      cause: 'tls-mode',
      message: `${hostPort} offers no STARTTLS, but mail.smtp says requireTLS=true: use smtps:// if the port expects TLS from the start, or drop requireTLS`,
    };
  }
  const loginRefused = seen.code === 'EAUTH' && (seen.responseCode === undefined || AUTH_REFUSED_CODES.has(seen.responseCode));
  if (loginRefused || seen.responseCode === 530) {
    const answer = seen.response ? ` (${seen.response})` : '';
    if (ctx.oauth2User) {
      return {
        cause: 'authentication',
        message: `${host} refused the XOAUTH2 login as ${ctx.oauth2User} with a fresh token${answer}: check mail.oauth2.user and that the app may send mail as that user`,
      };
    }
    if (!target?.auth) {
      return {
        cause: 'authentication',
        message: `${host} requires a login${answer}: give a user and password in mail.smtp or SMTP_USERNAME / SMTP_PASSWORD, or configure mail.oauth2`,
      };
    }
    return {
      cause: 'authentication',
      message: `${host} refused the login as ${target.auth.user}${answer}: check the user and password in mail.smtp (or SMTP_USERNAME / SMTP_PASSWORD)`,
    };
  }
  return undefined;
}
