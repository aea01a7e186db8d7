/** Stage: the mail for the events left, rendered (pure, so a retried send renders the same Message-ID). */
import type { Stage } from '../pipeline.ts';
import { renderBatch, type RenderOptions } from '../render.ts';

export function renderStage(options: RenderOptions): Stage {
  return {
    name: 'render',
    async run(delivery) {
      return { next: { ...delivery, message: renderBatch(delivery.batch, options) } };
    },
  };
}
