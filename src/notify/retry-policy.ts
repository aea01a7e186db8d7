/** When a temporarily failed notification is tried again: from mail.retryDelay, doubling, until mail.retryFor has passed. */

/** Each retry waits at most this long, however long the outage already lasted. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

export interface RetryPolicy {
  /** First retry delay (mail.retryDelay). */
  retryDelay: number;
  /** Give up this long after the batch was created (mail.retryFor). */
  retryFor: number;
}

/** retryDelay doubling per failed attempt, capped at MAX_RETRY_DELAY_MS and at the time left before giving up. */
export function retryDelayMs(failedAttempts: number, retryDelay: number, remainingMs: number): number {
  const exponential = retryDelay * 2 ** Math.max(0, Math.min(failedAttempts - 1, 30));
  return Math.max(1, Math.floor(Math.min(exponential, MAX_RETRY_DELAY_MS, remainingMs)));
}

/** After `failedAttempts` temporary failures of a batch created at `createdAt`: wait this long, or give up. */
export function nextRetry(policy: RetryPolicy, createdAt: number, failedAttempts: number, now: number): { retryInMs: number } | 'give-up' {
  const remaining = createdAt + policy.retryFor - now;
  if (remaining <= 0) return 'give-up';
  return { retryInMs: retryDelayMs(failedAttempts, policy.retryDelay, remaining) };
}
