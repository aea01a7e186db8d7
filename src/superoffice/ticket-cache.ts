/** The one SuperOffice ticket a client uses, shared by concurrent callers and renewed when refused. */
import { secrets } from '../redact/secrets.ts';
import { AuthError } from './errors.ts';

/**
 * The one ticket a client uses. Tickets slide for 6 hours with every use, so it is kept until a
 * call is refused; concurrent callers then share a single authentication.
 */
export class TicketCache {
  private current: string | null;
  private pending: Promise<string> | null = null;
  private readonly issued: string[] = [];
  private lastLogin: number | null = null;
  /** The current ticket has been accepted by at least one call. */
  private currentAccepted = false;

  constructor(
    staticTicket: string | null,
    private readonly login: (() => Promise<string>) | null,
    private readonly now: () => number = Date.now,
    /** The rotating secret slot logged-in tickets go to (one per installation). */
    private readonly secretSlot = 'superoffice ticket',
  ) {
    this.current = staticTicket;
    if (staticTicket) {
      // Configured: a secret for good.
      secrets.add(staticTicket);
      this.remember(staticTicket);
    }
  }

  /** When the last login finished (ms), or null before the first. */
  get lastLoginAt(): number | null {
    return this.lastLogin;
  }

  /** A call succeeded with `ticket`: it is a working ticket, refused later only because it expired. */
  accepted(ticket: string): void {
    if (this.current === ticket) this.currentAccepted = true;
  }

  /** Whether `ticket` is the current one and no call has succeeded with it yet. */
  neverAccepted(ticket: string): boolean {
    return this.current === ticket && !this.currentAccepted;
  }

  get canAuthenticate(): boolean {
    return this.login !== null;
  }

  get(): Promise<string> {
    if (this.current) return Promise.resolve(this.current);
    if (this.pending) return this.pending;
    const login = this.login;
    if (!login) {
      return Promise.reject(
        new AuthError('no SuperOffice credentials: set superoffice.ticket, or superoffice.username and superoffice.password'),
      );
    }
    const pending = login().then((ticket) => {
      this.current = ticket;
      this.currentAccepted = false;
      this.lastLogin = this.now();
      // Issued: a rotating secret, so the list every scrub searches does not grow with each login.
      secrets.replace(this.secretSlot, ticket);
      this.remember(ticket);
      return ticket;
    });
    this.pending = pending;
    const clear = () => {
      if (this.pending === pending) this.pending = null;
    };
    pending.then(clear, clear);
    return pending;
  }

  /** Forgets `ticket` if it is still the current one (another caller may already have replaced it). */
  invalidate(ticket: string): void {
    if (this.current === ticket) this.current = null;
  }

  /** Tickets this cache has held, for scrubbing them out of messages. */
  secrets(): readonly string[] {
    return this.issued;
  }

  /** Kept for this client's own redaction; process-wide (a ticket echoed into a task's text) by the caller. */
  private remember(ticket: string): void {
    this.issued.push(ticket);
    if (this.issued.length > 8) this.issued.shift();
  }
}
