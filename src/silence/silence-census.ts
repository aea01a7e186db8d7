/**
 * How many silences there are in each state, for the batchwatch_silences gauge: read from Redis in the
 * background (every replica sees the same silences), never inside a scrape. Also prunes silences that
 * ended long ago, so the list stays short even when nobody adds silences.
 */
import { countByState, type SilenceState } from '../core/silences.ts';
import type { SilenceStore } from './silence-store.ts';

export type SilenceCounts = Record<SilenceState, number>;

export interface SilenceCensusOptions {
  store: Pick<SilenceStore, 'all' | 'prune'>;
  /** Default 15 s. */
  intervalMs?: number;
  now?: () => number;
  log?: (level: 'debug' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export class SilenceCensus {
  #counts: SilenceCounts | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failing = false;
  readonly #options: SilenceCensusOptions;

  constructor(options: SilenceCensusOptions) {
    this.#options = options;
  }

  /** The latest counts; null until Redis was read once. */
  counts(): SilenceCounts | null {
    return this.#counts;
  }

  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#options.intervalMs ?? 15_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One read; a failure keeps the last counts (logged once until a read works again). */
  async refresh(): Promise<void> {
    const log = this.#options.log ?? (() => {});
    try {
      await this.#options.store.prune();
      this.#counts = countByState(await this.#options.store.all(), (this.#options.now ?? Date.now)());
      if (this.#failing) log('debug', 'silences readable again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing)
        log('warn', 'could not read the silences for batchwatch_silences; keeping the last counts', {
          err: error instanceof Error ? error.message : String(error),
        });
      this.#failing = true;
    }
  }
}
