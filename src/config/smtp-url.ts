/** The grammar of mail.smtp (smtp[s]://[user[:password]@]host[:port][?option=value]), checked at load time and read by the SMTP transport. */
import { QuotingError, quoted } from './quoted.ts';

export interface SmtpTarget {
  host: string;
  port: number;
  /** true: implicit TLS (smtps://); false: plain connection upgraded with STARTTLS when the server offers it. */
  secure: boolean;
  requireTLS: boolean;
  rejectUnauthorized: boolean;
  /** The operator allows credentials over a connection without TLS (?allowPlaintextAuth=true). */
  allowPlaintextAuth: boolean;
  /** From the URL's userinfo, else from SMTP_USERNAME / SMTP_PASSWORD. */
  auth?: { user: string; pass: string };
}

/** The query options mail.smtp knows, with what each means (the one list: parsing, messages and docs use it). */
export const SMTP_URL_OPTIONS = {
  requireTLS: 'refuse to send unless the server offers STARTTLS',
  tlsRejectUnauthorized: 'false accepts any server certificate (not verified; prefer mail.tls.ca)',
  allowPlaintextAuth: 'true allows a login over a connection without TLS',
} as const;
export type SmtpUrlOption = keyof typeof SMTP_URL_OPTIONS;

const DEFAULTS: Record<SmtpUrlOption, boolean> = { requireTLS: false, tlsRejectUnauthorized: true, allowPlaintextAuth: false };
const TRUE_VALUES = new Set(['1', 'true', 'yes']);
const FALSE_VALUES = new Set(['0', 'false', 'no']);

/** The documented way around URL syntax for credentials: taken as they are, no encoding. */
export const SMTP_ENV_HINT =
  'leave user:password out of mail.smtp and set SMTP_USERNAME and SMTP_PASSWORD in the environment (used as they are, no encoding needed)';

/** mail.smtp cannot be used. The message names mail.smtp (or the environment variable) and never quotes a credential. */
export class SmtpUrlError extends QuotingError {
  override name = 'SmtpUrlError';
}

const fail = (message: string): never => {
  throw new SmtpUrlError(message);
};

/**
 * Reads mail.smtp. Userinfo is percent-decoded; without userinfo, SMTP_USERNAME / SMTP_PASSWORD from `env` are used.
 * Throws SmtpUrlError naming what to change.
 */
export function parseSmtpUrl(text: string, env: NodeJS.ProcessEnv = process.env): SmtpTarget {
  const { url, options } = readUrl(text.trim());
  const secure = url.protocol === 'smtps:';
  const target: SmtpTarget = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: options.requireTLS,
    rejectUnauthorized: options.tlsRejectUnauthorized,
    allowPlaintextAuth: options.allowPlaintextAuth,
  };
  const auth = credentials(url, env);
  if (auth) target.auth = auth;
  return target;
}

/** Why `text` is not a usable mail.smtp (without looking at the environment), or undefined. */
export function smtpUrlProblem(text: string): string | undefined {
  try {
    readUrl(text.trim());
    return undefined;
  } catch (error) {
    if (error instanceof SmtpUrlError) return error.marked;
    throw error;
  }
}

/** Whether mail.smtp carries a user or password itself. */
export function smtpUrlHasUserinfo(text: string): boolean {
  try {
    const url = new URL(text.trim());
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

function readUrl(text: string): { url: URL; options: Record<SmtpUrlOption, boolean> } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== 'smtp' && scheme !== 'smtps') {
    fail('must be an smtp:// or smtps:// URL, e.g. smtp://smtp.example.com:587 (STARTTLS) or smtps://smtp.example.com:465 (TLS)');
  }
  const rest = text.slice(text.indexOf('://') + 3);
  const authorityEnd = rest.search(/[/?#]/);
  // An '@' after the end of the host part means the user or password contained '/', '?' or '#'.
  if (authorityEnd >= 0 && rest.slice(authorityEnd).includes('@')) {
    fail(`has a user or password containing '/', '?' or '#', which end the host part of a URL: ${SMTP_ENV_HINT}`);
  }
  const authority = authorityEnd >= 0 ? rest.slice(0, authorityEnd) : rest;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '' && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    fail('has a port that is not a number from 1 to 65535');
  }

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('is not a valid URL (expected smtp://host:587 or smtps://host:465)');
  }
  if (!url.hostname) fail('has no host (expected smtp://host:587 or smtps://host:465)');
  if (url.pathname !== '' && url.pathname !== '/') fail('must not have a path after the host (expected smtp://host:587)');
  if (url.hash !== '') fail(`must not contain '#' (a password with '#': ${SMTP_ENV_HINT})`);
  for (const [part, value] of [
    ['user', url.username],
    ['password', url.password],
  ] as const) {
    if (!validPercentEncoding(value)) {
      fail(`has a ${part} that is not valid percent-encoding (a '%' must start %XX, e.g. %25 for '%'): ${SMTP_ENV_HINT}`);
    }
  }
  if (url.password !== '' && url.username === '') fail('has a password but no user');
  return { url, options: readOptions(url) };
}

function validPercentEncoding(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

function readOptions(url: URL): Record<SmtpUrlOption, boolean> {
  const options = { ...DEFAULTS };
  const seen = new Set<string>();
  const known = Object.keys(SMTP_URL_OPTIONS) as SmtpUrlOption[];
  for (const [name, raw] of url.searchParams) {
    const option = known.find((k) => k.toLowerCase() === name.toLowerCase());
    if (!option) fail(`has an unknown option ${quoted(name)} (known: ${known.join(', ')})`);
    else {
      if (seen.has(option)) fail(`gives option ${option} twice`);
      seen.add(option);
      const value = raw.trim().toLowerCase();
      if (TRUE_VALUES.has(value)) options[option] = true;
      else if (FALSE_VALUES.has(value)) options[option] = false;
      else fail(`option ${option} must be true or false, got ${quoted(raw)}`);
    }
  }
  return options;
}

function credentials(url: URL, env: NodeJS.ProcessEnv): { user: string; pass: string } | undefined {
  if (url.username !== '') {
    const pass = url.password !== '' ? decodeURIComponent(url.password) : (env.SMTP_PASSWORD ?? '');
    return { user: decodeURIComponent(url.username), pass };
  }
  // SMTP_PASSWORD alone is not a login: it may be set only to be interpolated into mail.smtp.
  const user = env.SMTP_USERNAME ?? '';
  return user === '' ? undefined : { user, pass: env.SMTP_PASSWORD ?? '' };
}
