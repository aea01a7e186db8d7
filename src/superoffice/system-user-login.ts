/** SuperOffice Online's system user login: a signed system user token exchanged for a JWT that carries the ticket. */
import { sign, type KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, importX509, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { z } from 'zod';
import { parsePrivateKey } from '../config/system-user.ts';
import type { SystemUserConfig } from '../config/types.ts';
import { privateKeyParts } from '../redact/config.ts';
import { scrubSecrets, secrets } from '../redact/secrets.ts';
import { AuthError, MalformedResponseError, type SuperOfficeError, TransportError } from './errors.ts';
import { oneLine } from '../core/text.ts';
import { describeUrl } from './http-transport.ts';
import { caseInsensitiveObject, requestJson } from './json-http.ts';

const CLAIMS = 'http://schemes.superoffice.net/identity';
/** The JWT claim that carries the SOAP ticket. */
export const TICKET_CLAIM = `${CLAIMS}/ticket`;
export const NETSERVER_URL_CLAIM = `${CLAIMS}/netserver_url`;
export const WEBAPI_URL_CLAIM = `${CLAIMS}/webapi_url`;

export const AUTHENTICATE_PATH = '/api/PartnerSystemUser/Authenticate';

/** What one login produced, for `check` and the log. Only `ticket` is secret. */
export interface SystemUserSession {
  ticket: string;
  contextIdentifier: string;
  /** The claim the ticket was taken from. */
  claim: string;
  netserverUrl: string | null;
  webapiUrl: string | null;
  /** The JWT's signature and exp were checked against superoffice.systemUser.jwtCertificate. */
  verified: boolean;
  /** The JWT's exp (ms), when it has one. Not the ticket's lifetime: the ticket slides with use. */
  jwtExpiresAt: number | null;
}

export interface SystemUserLoginOptions {
  systemUser: SystemUserConfig;
  /** The app's client secret (superoffice.applicationToken). */
  applicationToken: string;
  contextIdentifier: string;
  timeoutMs: number;
  now?: () => number;
  /** PEM text of the CAs to trust besides the public ones (superoffice.tls.ca). */
  ca?: string;
}

/** UTC yyyyMMddHHmm, the timestamp SuperOffice expects in a signed system user token. */
export function loginTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
}

/** `TOKEN.yyyyMMddHHmm.base64(RSA-SHA256 PKCS#1 v1.5 signature of "TOKEN.yyyyMMddHHmm")`. */
export function signSystemUserToken(token: string, privateKey: KeyObject, now: number): string {
  const signed = `${token}.${loginTimestamp(now)}`;
  // Rotating slots (one value per login), keyed by the system user token: the list every scrub searches stays bounded.
  secrets.replace(`superoffice.systemUser signed token (${token})`, signed);
  const signature = sign('sha256', Buffer.from(signed, 'utf8'), privateKey).toString('base64');
  const signedSystemToken = `${signed}.${signature}`;
  secrets.replace(`superoffice.systemUser signed token with signature (${token})`, signedSystemToken);
  return signedSystemToken;
}

/** The rotating secret slot of the tickets the system user login hands out for a tenant. */
export function ticketSlot(contextIdentifier: string): string {
  return `superoffice ticket (${contextIdentifier})`;
}

const answerShape = caseInsensitiveObject({
  issuccessful: z.boolean(),
  token: z.string().nullish(),
  errormessage: z.string().nullish(),
});

const MAX_MESSAGE = 300;

/** Text from SuperOffice for an error message: no secrets, no control characters, bounded. */
function clean(text: string): string {
  const flat = oneLine(scrubSecrets(text));
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}...` : flat;
}

function stringClaim(payload: JWTPayload, claim: string): string | null {
  const value = payload[claim];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * Logs in once per call. The caller (the ticket cache) decides when: each login creates a credentials
 * row in the tenant's database, so it happens once per ticket lifetime, never per poll.
 */
export class SystemUserLogin {
  private readonly privateKey: KeyObject;
  private readonly now: () => number;
  private verificationKey: Promise<CryptoKey> | null = null;

  constructor(private readonly options: SystemUserLoginOptions) {
    // loadConfig registers these already; a client built from a config object must not depend on that.
    for (const secret of [options.systemUser.token, options.applicationToken, ...privateKeyParts(options.systemUser.privateKey)])
      secrets.add(secret);
    // Checked when the config was loaded; parsing once here keeps the PEM out of every later step.
    this.privateKey = parsePrivateKey(options.systemUser.privateKey);
    this.now = options.now ?? Date.now;
  }

  get loginUrl(): string {
    return `${this.options.systemUser.loginUrl}${AUTHENTICATE_PATH}`;
  }

  async login(): Promise<SystemUserSession> {
    const { systemUser, contextIdentifier } = this.options;
    const signedSystemToken = signSystemUserToken(systemUser.token, this.privateKey, this.now());
    const response = await requestJson({
      method: 'POST',
      url: this.loginUrl,
      body: {
        SignedSystemToken: signedSystemToken,
        ApplicationToken: this.options.applicationToken,
        ContextIdentifier: contextIdentifier,
        ReturnTokenType: 'JWT',
      },
      timeoutMs: this.options.timeoutMs,
      what: 'system user login',
      ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
    });
    const answer = answerShape.safeParse(response.json);
    if (!answer.success) {
      if (response.status < 200 || response.status >= 300) {
        throw new TransportError('http-status', `system user login: HTTP ${response.status} from ${this.describeLoginUrl()}`, {
          status: response.status,
        });
      }
      throw new MalformedResponseError(
        `system user login: unexpected answer from ${this.describeLoginUrl()} (expected IsSuccessful, Token, ErrorMessage)`,
      );
    }
    const { issuccessful, token, errormessage } = answer.data;
    if (token) secrets.replace(`superoffice.systemUser JWT (${contextIdentifier})`, token);
    if (!issuccessful) {
      const why = errormessage ? clean(errormessage) : '(no ErrorMessage)';
      throw new AuthError(
        `SuperOffice refused the system user login for tenant ${contextIdentifier}: ${why} ` +
          '(check superoffice.systemUser.token, the private key, superoffice.applicationToken and the clock)',
      );
    }
    if (!token) throw new MalformedResponseError('system user login: IsSuccessful without a Token');
    return this.sessionFrom(token);
  }

  private describeLoginUrl(): string {
    return describeUrl(new URL(this.loginUrl));
  }

  private async sessionFrom(jwt: string): Promise<SystemUserSession> {
    const certificate = this.options.systemUser.jwtCertificate;
    const payload = certificate ? await this.verify(jwt, certificate) : this.decode(jwt);
    const ticket = stringClaim(payload, TICKET_CLAIM);
    if (!ticket) throw new MalformedResponseError(`system user login: the JWT carries no ${TICKET_CLAIM} claim`);
    secrets.replace(ticketSlot(this.options.contextIdentifier), ticket);
    return {
      ticket,
      contextIdentifier: this.options.contextIdentifier,
      claim: TICKET_CLAIM,
      netserverUrl: stringClaim(payload, NETSERVER_URL_CLAIM),
      webapiUrl: stringClaim(payload, WEBAPI_URL_CLAIM),
      verified: certificate !== undefined,
      jwtExpiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    };
  }

  private decode(jwt: string): JWTPayload {
    try {
      return decodeJwt(jwt);
    } catch {
      throw new MalformedResponseError('system user login: the Token is not a JWT');
    }
  }

  private async verify(jwt: string, certificate: { file: string; pem: string }): Promise<JWTPayload> {
    this.verificationKey ??= importX509(certificate.pem, 'RS256');
    let key: CryptoKey;
    try {
      key = await this.verificationKey;
    } catch {
      this.verificationKey = null;
      throw new AuthError(`superoffice.systemUser.jwtCertificate: ${certificate.file} cannot be used to verify RS256 JWTs`);
    }
    try {
      const { payload } = await jwtVerify(jwt, key, {
        algorithms: ['RS256'],
        requiredClaims: ['exp'],
        currentDate: new Date(this.now()),
        clockTolerance: 60,
      });
      return payload;
    } catch (error) {
      throw jwtError(error, certificate.file);
    }
  }
}

/** jose's verdict in operator words; never the token itself. */
function jwtError(error: unknown, certificateFile: string): SuperOfficeError {
  const reject = (why: string) => new AuthError(`system user login: rejected the JWT from SuperOffice: ${why}`);
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return reject(
      `its signature does not verify with the certificate ${certificateFile} (superoffice.systemUser.jwtCertificate): a foreign or tampered token, or the wrong certificate`,
    );
  }
  if (error instanceof joseErrors.JWTExpired) {
    return reject("it has expired (exp is in the past; check this machine's clock)");
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return reject('it is not signed with RS256');
  if (error instanceof joseErrors.JWTClaimValidationFailed) return reject(`claim ${error.claim} is not acceptable (${error.reason})`);
  if (error instanceof joseErrors.JOSEError) return reject(`it is not a valid signed JWT (${error.code})`);
  return reject('it could not be verified');
}
