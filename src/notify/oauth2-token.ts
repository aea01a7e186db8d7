/** OAuth2 access tokens for SMTP XOAUTH2 (mail.oauth2): client-credentials or refresh-token grant, cached until shortly before they expire. */
import { z } from 'zod';
import type { MailOAuth2Config } from '../config/types.ts';
import { secrets } from '../redact/secrets.ts';

/** A token is renewed this long before the endpoint said it expires (clock skew, a send in progress). */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** Without expires_in, a token is reused this long (the server's rejection renews it sooner). */
const DEFAULT_TOKEN_LIFETIME_MS = 10 * 60_000;
const DEFAULT_TIMEOUT_MS = 15_000;
/** A token answer is a few kilobytes (a JWT access token included); more is the wrong URL or a broken endpoint. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The token endpoint did not give a token. `refused`: it said no to the configured client, secret, scope
 * or refresh token (a configuration problem naming the key); otherwise it was unreachable or failing (temporary).
 */
export class OAuth2TokenError extends Error {
  override name = 'OAuth2TokenError';
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}

export interface AccessToken {
  accessToken: string;
  /** Unix ms after which the token is not used again. */
  expiresAt: number;
}

export interface TokenSourceOptions {
  /** Default: global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  refresh_token: z.string().min(1).optional(),
});
const errorAnswer = z.object({ error: z.string(), error_description: z.string().optional() }).loose();

/**
 * Fetches and caches the access token. Concurrent callers share one request; `renew` (the SMTP server
 * rejected the token) fetches a new one once, whatever the cache says.
 */
export class OAuth2TokenSource {
  private cached: AccessToken | null = null;
  private pending: Promise<AccessToken> | null = null;
  private refreshToken: string | undefined;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** Token requests made so far (for logs and tests). */
  requests = 0;

  constructor(
    private readonly config: MailOAuth2Config,
    options: TokenSourceOptions = {},
  ) {
    this.refreshToken = config.refreshToken;
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get user(): string {
    return this.config.user;
  }

  async token(renew = false): Promise<AccessToken> {
    if (this.pending) return this.pending;
    if (!renew && this.cached && this.cached.expiresAt > this.now()) return this.cached;
    this.pending = this.request().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async request(): Promise<AccessToken> {
    this.requests += 1;
    const form = new URLSearchParams({ client_id: this.config.clientId, client_secret: this.config.clientSecret });
    if (this.refreshToken !== undefined) {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', this.refreshToken);
      if (this.config.scope) form.set('scope', this.config.scope);
    } else {
      form.set('grant_type', 'client_credentials');
      form.set('scope', this.config.scope ?? '');
    }
    const where = `mail.oauth2.tokenUrl (${hostOf(this.config.tokenUrl)})`;
    let response: Response;
    try {
      response = await this.fetch(this.config.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new OAuth2TokenError(`token endpoint ${where} not reachable: ${reason}`, false);
    }
    const text = await readBounded(response, MAX_ANSWER_BYTES);
    if (text === null) {
      const temporary = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new OAuth2TokenError(
        `token endpoint ${where} answered ${response.status} and its answer is larger than ${MAX_ANSWER_BYTES / 1024} KiB: ` +
          (temporary ? 'it is failing' : 'check mail.oauth2.tokenUrl'),
        !temporary,
      );
    }
    const body = parseJson(text);
    if (!response.ok) throw this.refusal(response.status, body, where);
    const parsed = tokenAnswer.safeParse(body);
    if (!parsed.success) {
      throw new OAuth2TokenError(
        `token endpoint ${where} answered ${response.status} without an access_token: check mail.oauth2.tokenUrl`,
        true,
      );
    }
    const { access_token: accessToken, expires_in: expiresIn, refresh_token: rotated } = parsed.data;
    // Rotating slots: a token replaced now and then must not grow the list every scrub searches.
    secrets.replace(`mail.oauth2 access token (${this.config.tokenUrl})`, accessToken);
    // Some providers (Microsoft) hand out a new refresh token with each use; the newest is the one to keep.
    if (rotated !== undefined && this.refreshToken !== undefined) {
      secrets.replace(`mail.oauth2 refresh token (${this.config.tokenUrl})`, rotated);
      this.refreshToken = rotated;
    }
    const lifetimeMs = expiresIn !== undefined ? expiresIn * 1000 : DEFAULT_TOKEN_LIFETIME_MS;
    // Renew a minute early; a token that lives less than two minutes is used for half its life.
    const usableMs = lifetimeMs > 2 * TOKEN_EXPIRY_MARGIN_MS ? lifetimeMs - TOKEN_EXPIRY_MARGIN_MS : lifetimeMs / 2;
    this.cached = { accessToken, expiresAt: this.now() + usableMs };
    return this.cached;
  }

  private refusal(status: number, body: unknown, where: string): OAuth2TokenError {
    const answer = errorAnswer.safeParse(body);
    const code = answer.success ? answer.data.error : undefined;
    const description =
      answer.success && answer.data.error_description ? `: ${answer.data.error_description.split(/\r?\n/)[0]?.slice(0, 200)}` : '';
    const said = code ? `${status} ${code}${description}` : `HTTP ${status}`;
    if (status >= 500 || status === 408 || status === 429) return new OAuth2TokenError(`token endpoint ${where} failed (${said})`, false);
    const grant = this.refreshToken !== undefined ? 'refresh-token' : 'client-credentials';
    const key =
      code === 'invalid_client' || code === 'unauthorized_client'
        ? 'mail.oauth2.clientId and mail.oauth2.clientSecret'
        : code === 'invalid_grant'
          ? grant === 'refresh-token'
            ? 'mail.oauth2.refreshToken (expired or revoked: issue a new one)'
            : 'mail.oauth2.clientId, clientSecret and scope'
          : code === 'invalid_scope'
            ? 'mail.oauth2.scope'
            : code === 'unsupported_grant_type'
              ? `mail.oauth2 (the endpoint does not offer the ${grant} grant)`
              : 'mail.oauth2.tokenUrl, clientId and clientSecret';
    return new OAuth2TokenError(`token endpoint ${where} refused the ${grant} grant (${said}): check ${key}`, true);
  }
}

/** The body as text, or null once it passes `limit` bytes (the rest is not read). A broken stream reads as ''. */
async function readBounded(response: Response, limit: number): Promise<string | null> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } catch {
    return '';
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}
