/** One read of the snapshots per scrape, shared by every metric collected in it. */
import { withTimeout } from './timeout.ts';

export type ReadResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * One read per scrape: prom-client calls every metric's collect at the start of a scrape,
 * so sharing the pending promise until it settles makes all of them use a single read.
 * The next scrape starts a fresh read. Never rejects; a hanging source yields a timeout failure.
 */
export function sharedRead<T>(
  read: () => Promise<T>,
  opts: { timeoutMs: number; what: string; onError: (error: unknown) => void },
): () => Promise<ReadResult<T>> {
  let pending: Promise<ReadResult<T>> | null = null;
  return () => {
    if (pending) return pending;
    const current = withTimeout(Promise.resolve().then(read), opts.timeoutMs, opts.what).then(
      (value): ReadResult<T> => ({ ok: true, value }),
      (error: unknown): ReadResult<T> => {
        opts.onError(error);
        return { ok: false, error };
      },
    );
    pending = current;
    void current.finally(() => {
      if (pending === current) pending = null;
    });
    return current;
  };
}
