/** Cooperative slicing of long work, so the event loop keeps answering /healthz, /metrics and signals. */

/** Lets pending I/O and timers run before the caller continues (a macrotask, unlike `await` alone). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Default share of the event loop one slice of background work may hold before yielding. */
export const SLICE_MS = 8;

/**
 * Tracks how long the current slice has run: `await slicer.maybeYield()` inside a loop yields once
 * the slice is used up, and costs only a clock read otherwise.
 */
export class Slicer {
  private started = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  async maybeYield(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await yieldToLoop();
    this.started = performance.now();
  }
}
