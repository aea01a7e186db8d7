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

/** How many values a rotating slot keeps: the current one and the two before it (output still in flight may carry them). */
export const ROTATING_VALUES_KEPT = 3;

/**
 * The secrets the process knows. Configured ones (passwords, tokens, keys) are added once and kept for good;
 * values that are issued again and again (tickets, signed login tokens, JWTs, OAuth2 access tokens) each live in
 * a named slot that keeps only its newest few, so the one pattern every scrub runs does not grow with uptime.
 * Matching ignores case, so a lower-cased copy is caught too.
 */
export class SecretSet {
  private readonly permanent = new Set<string>();
  private readonly slots = new Map<string, string[]>();
  private pattern: RegExp | null = null;
  private known: Set<string> | null = null;

  /** Registers a secret for good; values that are empty or too short to scrub safely are ignored. */
  add(secret: string | null | undefined): void {
    const value = scrubbable(secret);
    if (value === null || this.permanent.has(value)) return;
    this.permanent.add(value);
    this.changed();
  }

  /**
   * Makes `secret` the newest value of the rotating `slot` (e.g. "mail.oauth2 access token"): the slot keeps it
   * and the ROTATING_VALUES_KEPT - 1 values before it; older ones are no longer searched for.
   */
  replace(slot: string, secret: string | null | undefined): void {
    const value = scrubbable(secret);
    if (value === null) return;
    const values = this.slots.get(slot) ?? [];
    if (values[0] === value) return;
    const next = [value, ...values.filter((v) => v !== value)].slice(0, ROTATING_VALUES_KEPT);
    this.slots.set(slot, next);
    this.changed();
  }

  /** Distinct secrets searched for (permanent ones and the values the slots keep). */
  get size(): number {
    return this.all().size;
  }

  /** `text` with every registered secret (in any of its variants) replaced by ***. */
  scrub(text: string): string {
    if ((this.permanent.size === 0 && this.slots.size === 0) || text.length < MIN_SCRUBBED_LENGTH) return text;
    this.pattern ??= this.compile();
    return text.replace(this.pattern, MASK);
  }

  private changed(): void {
    this.pattern = null;
    this.known = null;
  }

  private all(): Set<string> {
    if (this.known) return this.known;
    const all = new Set(this.permanent);
    for (const values of this.slots.values()) for (const value of values) all.add(value);
    this.known = all;
    return all;
  }

  private compile(): RegExp {
    const variants = [...this.all()].flatMap(secretVariants);
    // Longest first, so a secret is replaced whole rather than an encoded prefix of it.
    const unique = [...new Set(variants)].sort((a, b) => b.length - a.length);
    return new RegExp(unique.map(escapeRegExp).join('|'), 'gi');
  }
}

function scrubbable(secret: string | null | undefined): string | null {
  if (typeof secret !== 'string') return null;
  const value = secret.trim();
  return value.length < MIN_SCRUBBED_LENGTH ? null : value;
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
