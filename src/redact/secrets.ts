/**
 * The one place that knows which strings are secret, and scrubs them (and their common encodings)
 * out of any text before it leaves the process: log lines, CLI output, mail, Redis-stored errors, API answers.
 */

export const MASK = '***';

/**
 * Shorter values are masked where they are configured (redactedConfig) but not searched for in free
 * text: a 4-letter password such as "demo" would otherwise blank out every ordinary word that contains it.
 */
export const MIN_SCRUBBED_LENGTH = 8;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The forms a secret takes on its way out: as is, URL/form-encoded, JSON-escaped, HTML-escaped (a mail's
 * HTML part), XML-escaped (a SOAP answer), base64 (standard and URL-safe). Matching ignores case on top.
 */
export function secretVariants(secret: string): string[] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const variants = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    JSON.stringify(secret).slice(1, -1),
    secret.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch),
    secret.replace(/[&<>]/g, (ch) => HTML_ESCAPES[ch] ?? ch),
    base64,
    base64.replace(/=+$/, ''),
    base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
  ]);
  return [...variants].filter((variant) => variant.length >= MIN_SCRUBBED_LENGTH);
}

/**
 * A set of secrets that grows while the process runs (configured passwords at start, tickets, JWTs and
 * access tokens as they are issued). Matching ignores case, so a lower-cased copy is caught too.
 */
export class SecretSet {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null = null;

  /** Registers a secret; values that are empty or too short to scrub safely are ignored. */
  add(secret: string | null | undefined): void {
    if (typeof secret !== 'string') return;
    const value = secret.trim();
    if (value.length < MIN_SCRUBBED_LENGTH || this.secrets.has(value)) return;
    this.secrets.add(value);
    this.pattern = null;
  }

  get size(): number {
    return this.secrets.size;
  }

  /** `text` with every registered secret (in any of its variants) replaced by ***. */
  scrub(text: string): string {
    if (this.secrets.size === 0 || text.length < MIN_SCRUBBED_LENGTH) return text;
    this.pattern ??= this.compile();
    return text.replace(this.pattern, MASK);
  }

  private compile(): RegExp {
    const variants = [...this.secrets].flatMap(secretVariants);
    // Longest first, so a secret is replaced whole rather than an encoded prefix of it.
    const unique = [...new Set(variants)].sort((a, b) => b.length - a.length);
    return new RegExp(unique.map(escapeRegExp).join('|'), 'gi');
  }
}

/** The process-wide set: every exit (logger, CLI output, mail, stored errors, HTTP answers) scrubs with it. */
export const secrets = new SecretSet();

/** Scrubs the process-wide secrets out of `text`. */
export function scrubSecrets(text: string): string {
  return secrets.scrub(text);
}

/**
 * The same error (class kept, so BullMQ still tells an UnrecoverableError apart) with its message and stack
 * scrubbed: what a queue stores in Redis as a failed job's reason and stack trace.
 */
export function scrubbedError<T>(error: T): T {
  if (!(error instanceof Error) || secrets.size === 0) return error;
  error.message = scrubSecrets(error.message);
  if (error.stack !== undefined) error.stack = scrubSecrets(error.stack);
  return error;
}
