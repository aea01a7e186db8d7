import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, so heap figures show retained memory rather than garbage not yet collected.
 * `npm run bench` runs node without --expose-gc; the flag can still be turned on at runtime and the
 * `gc` function picked up from a fresh context.
 */
function loadGc(): (() => void) | null {
  const existing: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as () => void;
  setFlagsFromString('--expose-gc');
  const fresh: unknown = runInNewContext('typeof gc === "function" ? gc : null');
  return typeof fresh === 'function' ? (fresh as () => void) : null;
}

const gcFunction = loadGc();
export const gcAvailable = gcFunction !== null;

export function fullGc(): void {
  if (!gcFunction) return;
  gcFunction();
  gcFunction();
}

/** heapUsed after a full collection. */
export function retainedHeap(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}
