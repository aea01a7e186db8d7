/** The simulator's PartnerSystemUser/Authenticate: checks a signed system user token and issues an RS256 JWT that carries a ticket. */
import { createPublicKey, generateKeyPair, randomBytes, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { NETSERVER_URL_CLAIM, TICKET_CLAIM, WEBAPI_URL_CLAIM } from '../superoffice/system-user-login.ts';
import { selfSignedCertificate } from './certificate.ts';

export interface SimulatedSystemUser {
  /** The tenant's system user token the app must sign. */
  token: string;
  /** The app's public key (PEM or KeyObject): what SuperOffice keeps when the app is registered. */
  appPublicKey: string | KeyObject;
  /** The app's client secret, required as ApplicationToken in the login. */
  applicationToken: string;
}

/** Ways to make the issued JWT wrong, for tests of the client's checks. */
export type JwtFault = 'expired' | 'foreign' | 'bad-signature' | 'no-ticket';

export interface LoginAnswer {
  status: number;
  json: unknown;
}

/** A signed token's timestamp may be this far from the simulator's clock. */
export const SIGNED_TOKEN_WINDOW_MS = 15 * 60 * 1000;
const JWT_LIFETIME_S = 60 * 60;
const generateRsa = promisify(generateKeyPair);

interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

async function rsaKeyPair(): Promise<KeyPair> {
  return generateRsa('rsa', { modulusLength: 2048 });
}

/** yyyyMMddHHmm in UTC, or null. */
function parseTimestamp(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute);
  const back = new Date(ms);
  return back.getUTCMonth() === month - 1 && back.getUTCDate() === day && hour < 24 && minute < 60 ? ms : null;
}

function refused(message: string): LoginAnswer {
  return { status: 200, json: { IsSuccessful: false, Token: null, ErrorMessage: message } };
}

/** The login service of one simulated tenant. Create with `SystemUserService.create`. */
export class SystemUserService {
  private fault: JwtFault | null = null;
  private foreign: Promise<KeyPair> | null = null;
  private readonly appPublicKey: KeyObject;

  /** A key pair SuperOffice never published, made on first use (key generation is slow). */
  private foreignKeys(): Promise<KeyPair> {
    this.foreign ??= rsaKeyPair();
    return this.foreign;
  }

  private constructor(
    private readonly user: SimulatedSystemUser,
    private readonly signing: KeyPair,
    /** PEM certificate of the key that signs the JWTs: what an operator gives as jwtCertificate. */
    readonly certificate: string,
  ) {
    this.appPublicKey = typeof user.appPublicKey === 'string' ? createPublicKey(user.appPublicKey) : user.appPublicKey;
  }

  static async create(user: SimulatedSystemUser): Promise<SystemUserService> {
    const signing = await rsaKeyPair();
    const certificate = selfSignedCertificate(signing.publicKey, signing.privateKey, 'batchwatch simulator JWT signer');
    return new SystemUserService(user, signing, certificate);
  }

  setJwtFault(fault: JwtFault | null): void {
    this.fault = fault;
  }

  /**
   * Answers one Authenticate request. `issueTicket` makes a ticket valid for Batch calls;
   * `record` receives every secret of the exchange (for tests proving none leaks).
   */
  async authenticate(
    body: unknown,
    context: { contextIdentifier: string; installationUrl: string; now: number },
    issueTicket: () => string,
    record: (secret: string) => void,
  ): Promise<LoginAnswer> {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      return { status: 400, json: { Message: 'The request is invalid.' } };
    const fields = body as Record<string, unknown>;
    const signedSystemToken = typeof fields.SignedSystemToken === 'string' ? fields.SignedSystemToken : '';
    if (signedSystemToken) record(signedSystemToken);
    if (fields.ContextIdentifier !== context.contextIdentifier) return refused(`Unknown customer ${String(fields.ContextIdentifier)}`);
    if (fields.ApplicationToken !== this.user.applicationToken) return refused('Invalid application token');
    if (fields.ReturnTokenType !== 'JWT') return refused('ReturnTokenType must be JWT');

    const signatureAt = signedSystemToken.lastIndexOf('.');
    const signed = signatureAt > 0 ? signedSystemToken.slice(0, signatureAt) : '';
    const stampAt = signed.lastIndexOf('.');
    if (signatureAt <= 0 || stampAt <= 0) return refused('SignedSystemToken must be TOKEN.yyyyMMddHHmm.SIGNATURE');
    const token = signed.slice(0, stampAt);
    const stamp = parseTimestamp(signed.slice(stampAt + 1));
    const signature = Buffer.from(signedSystemToken.slice(signatureAt + 1), 'base64');
    if (token !== this.user.token) return refused('Unknown system user token');
    if (stamp === null) return refused('The time stamp of the signed system user token is not yyyyMMddHHmm');
    if (Math.abs(context.now - stamp) > SIGNED_TOKEN_WINDOW_MS)
      return refused('The signed system user token has expired (time stamp out of range)');
    if (!verify('sha256', Buffer.from(signed, 'utf8'), this.appPublicKey, signature))
      return refused('The signature of the system user token is not valid');

    const ticket = issueTicket();
    record(ticket);
    const jwt = await this.jwt(ticket, context);
    record(jwt);
    return { status: 200, json: { IsSuccessful: true, Token: jwt, ErrorMessage: null } };
  }

  private async jwt(ticket: string, context: { contextIdentifier: string; installationUrl: string; now: number }): Promise<string> {
    const fault = this.fault;
    const nowS = Math.floor(context.now / 1000);
    const issuedAt = fault === 'expired' ? nowS - 2 * JWT_LIFETIME_S : nowS;
    const claims: Record<string, string> = {
      [NETSERVER_URL_CLAIM]: `${context.installationUrl}/Remote/Services85/`,
      [WEBAPI_URL_CLAIM]: `${context.installationUrl}/api/`,
      'http://schemes.superoffice.net/identity/ctx': context.contextIdentifier,
    };
    if (fault !== 'no-ticket') claims[TICKET_CLAIM] = ticket;
    const key = fault === 'foreign' ? (await this.foreignKeys()).privateKey : this.signing.privateKey;
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer('SuperOffice AS')
      .setAudience(`spn:${randomBytes(4).toString('hex')}`)
      .setSubject('system-user')
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + JWT_LIFETIME_S)
      .sign(key);
    if (fault !== 'bad-signature') return jwt;
    // Same header and claims, a signature that does not match them.
    const [header, payload, signature = ''] = jwt.split('.');
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    return `${header}.${payload}.${flipped}`;
  }
}
