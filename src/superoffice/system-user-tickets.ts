/** The client's side of the system user login: when a refused ticket earns a new login, and what `check` may show of the last one. */
import type { SuperOfficeConfig, SystemUserConfig } from '../config/types.ts';
import { contextIdentifierOf } from '../config/tenant.ts';
import { AuthError, ClientSetupError } from './errors.ts';
import { looksLikeTicketProblem, type Refusal } from './response.ts';
import { SystemUserLogin, type SystemUserSession } from './system-user-login.ts';
import type { TicketCache } from './ticket-cache.ts';

export const DEFAULT_RELOGIN_COOLDOWN_MS = 5 * 60 * 1000;

type Log = (level: 'info', msg: string, fields: Record<string, unknown>) => void;

/** One per client: it logs in (through the ticket cache, so concurrent callers share one login) and guards re-logins. */
export class SystemUserTickets {
  private readonly login: SystemUserLogin;
  private last: SystemUserSession | null = null;

  constructor(
    config: SuperOfficeConfig & { systemUser: SystemUserConfig },
    private readonly options: {
      now: () => number;
      reloginCooldownMs?: number;
      log: Log /** superoffice.tls.ca's PEM text. */;
      ca?: string;
    },
  ) {
    const contextIdentifier = contextIdentifierOf(config.url);
    if (!contextIdentifier || !config.applicationToken) {
      throw new ClientSetupError(
        'superoffice.systemUser needs superoffice.applicationToken and a ContextIdentifier at the end of superoffice.url',
      );
    }
    this.login = new SystemUserLogin({
      systemUser: config.systemUser,
      applicationToken: config.applicationToken,
      contextIdentifier,
      timeoutMs: config.timeout,
      now: options.now,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
  }

  /** The ticket cache's login function. */
  async newTicket(): Promise<string> {
    const session = await this.login.login();
    this.last = session;
    this.options.log('info', 'logged in to SuperOffice Online as the system user', {
      tenant: session.contextIdentifier,
      claim: session.claim,
      jwtVerified: session.verified,
    });
    return session.ticket;
  }

  /** The last login without its ticket, for `check`. */
  lastSession(): Omit<SystemUserSession, 'ticket'> | null {
    if (!this.last) return null;
    const { ticket: _secret, ...session } = this.last;
    return session;
  }

  /**
   * Throws unless SuperOffice's refusal of `ticket` earns a new login. A login adds a credentials row in the
   * tenant's database, so only a refusal that reads like an invalid or expired ticket does, and a ticket refused
   * before any call succeeded with it (the problem is elsewhere) is replaced at most once per cooldown, not per poll.
   */
  assertReloginAllowed(ticket: string, refusal: Refusal, tickets: TicketCache): void {
    if (!looksLikeTicketProblem(refusal)) throw refusal;
    const last = tickets.lastLoginAt;
    if (last === null || !tickets.neverAccepted(ticket)) return;
    const cooldown = this.options.reloginCooldownMs ?? DEFAULT_RELOGIN_COOLDOWN_MS;
    const age = this.options.now() - last;
    if (age >= cooldown) return;
    throw new AuthError(
      `SuperOffice refused the ticket of a system user login ${Math.round(age / 1000)} s ago before any call succeeded with it ` +
        `(${refusal.message}); not logging in again for ${Math.ceil((cooldown - age) / 1000)} s, as each login adds a credentials row in the tenant's database`,
    );
  }
}
