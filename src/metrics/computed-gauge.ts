/** A prom-client gauge whose series are computed afresh on every scrape. */
import { Gauge } from 'prom-client';

export interface Sample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

/**
 * A gauge whose series are computed afresh on every scrape: no state is kept between scrapes,
 * so a series that is not returned is simply gone (no stale series, no manual removal).
 */
export class ComputedGauge<L extends string> extends Gauge<L> {
  readonly #compute: () => Promise<Sample<L>[]>;

  constructor(config: { name: string; help: string; labelNames: readonly L[] }, compute: () => Promise<Sample<L>[]>) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [] });
    this.#compute = compute;
  }

  override async get() {
    const base = await super.get();
    const samples = await this.#compute();
    return { ...base, values: samples.map((s) => ({ labels: s.labels as Partial<Record<L, string>>, value: s.value })) };
  }
}
