/** Pauses mail delivery on a configuration problem (jobs stay queued) and resumes it when a periodic re-check of the SMTP server passes. */
import type { Instruments } from '../metrics/instruments.ts';
import { toDeliveryError } from './delivery-error.ts';
import type { MailProblem } from './mail-problem.ts';
import type { NotifyLog } from './outcome-report.ts';

export const DEFAULT_RECHECK_MS = 60_000;

export interface DeliveryGateDeps {
  /** Connects and logs in like a send would; throws when it cannot. */
  verify: () => Promise<void>;
  /** Stop taking jobs (they stay queued). */
  onPause: () => Promise<void>;
  /** Take jobs again. */
  onResume: () => Promise<void>;
  log: NotifyLog;
  instruments: Instruments;
  /** How often the server is checked again while paused. */
  recheckMs: number;
}

/**
 * A configuration problem (untrusted certificate, refused login, smtps:// against a STARTTLS port, ...) would
 * fail every message the same way: instead of burning mail.retryFor on it, delivery stops until the problem
 * is gone. It is logged and counted once per episode and shown by readiness.
 */
export class DeliveryGate {
  private current: MailProblem | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: DeliveryGateDeps) {}

  /** The problem delivery is paused for, or null while mail flows. */
  get problem(): MailProblem | null {
    return this.current;
  }

  /** A configuration problem seen by a send or a check: pause until a re-check passes. Resolves once the worker stopped taking jobs. */
  async pause(problem: MailProblem): Promise<void> {
    if (this.closed) return;
    const previous = this.current;
    this.current = problem;
    if (previous?.message === problem.message) return;
    this.deps.log('error', 'mail delivery paused by a configuration problem; notifications stay queued until it is fixed', {
      cause: problem.cause,
      problem: problem.message,
      recheckInMs: this.deps.recheckMs,
    });
    this.deps.instruments.mailDeliveryPaused(problem.cause);
    if (previous === null) {
      this.scheduleRecheck();
      await this.deps
        .onPause()
        .catch((error: unknown) => this.deps.log('warn', 'could not pause the notification worker', { err: String(error) }));
    }
  }

  /** Verifies the server now (at start, and every recheckMs while paused); resumes delivery when it passes. */
  async check(): Promise<void> {
    if (this.closed) return;
    try {
      await this.deps.verify();
      if (this.current) this.resume();
      else this.deps.log('info', 'SMTP server reachable');
    } catch (thrown) {
      if (this.closed) return;
      const error = toDeliveryError(thrown, 'smtp');
      if (error.kind === 'configuration' && error.problem) await this.pause(error.problem);
      else if (this.current)
        this.deps.log('debug', 'mail delivery still paused; the re-check failed for another reason', { err: error.message });
      else this.deps.log('warn', 'SMTP server not reachable now; notifications wait in the queue', { err: error.message });
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private resume(): void {
    const was = this.current;
    this.current = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.deps.log('info', 'mail delivery resumed: the SMTP server accepts the configuration again', { wasCause: was?.cause });
    this.deps.instruments.mailDeliveryPaused(null);
    void this.deps
      .onResume()
      .catch((error: unknown) => this.deps.log('warn', 'could not resume the notification worker', { err: String(error) }));
  }

  private scheduleRecheck(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check().finally(() => {
        if (this.current) this.scheduleRecheck();
      });
    }, this.deps.recheckMs);
    // A paused notifier must not keep a finished CLI command alive.
    this.timer.unref();
  }
}
