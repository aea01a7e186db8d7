/** Summary statistics of a list of samples (milliseconds unless said otherwise). */
export interface Summary {
  count: number;
  median: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { count: 0, median: NaN, p95: NaN, mean: NaN, min: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return {
    count: sorted.length,
    median: at(0.5),
    p95: at(0.95),
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/**
 * Runs `fn` repeatedly until `maxRuns` runs or `budgetMs` of wall time, whichever comes first
 * (at least `minRuns`), and returns the duration of each run.
 */
export async function sample(fn: () => unknown, opts: { maxRuns: number; budgetMs: number; minRuns?: number }): Promise<number[]> {
  const durations: number[] = [];
  const deadline = performance.now() + opts.budgetMs;
  const minRuns = opts.minRuns ?? 1;
  while (durations.length < opts.maxRuns && (durations.length < minRuns || performance.now() < deadline)) {
    const started = performance.now();
    await fn();
    durations.push(performance.now() - started);
  }
  return durations;
}

export const ms = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');
export const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
export const signedMib = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;
export const int = (value: number): string => Math.round(value).toLocaleString('en-US');
