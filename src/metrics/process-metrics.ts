import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Only the standard process_* metrics of prom-client's defaults: the nodejs_* set includes gauges
 * named `*_total` (nodejs_active_handles_total...), which `promtool check metrics` rejects.
 */
export function registerProcessMetrics(registry: Registry): void {
  const scratch = new Registry();
  collectDefaultMetrics({ register: scratch });
  for (const { name } of scratch.getMetricsAsArray()) {
    const metric = scratch.getSingleMetric(name);
    if (metric && name.startsWith('process_')) registry.registerMetric(metric);
  }
}
