import type { AlertEvent, NotificationBatch } from '../src/core/model.ts';
import { renderBatch } from '../src/notify/render.ts';
import { Fleet } from './fleet.ts';
import { sample, summarize, type Summary } from './stats.ts';

export interface RenderResult {
  events: number;
  perRender: Summary;
  textBytes: number;
  htmlBytes: number;
}

/** A batch mixing every event kind, built from plausible tasks. */
function batchOf(size: number, now: number): NotificationBatch {
  const tasks = new Fleet({ tasks: size, associates: Math.max(1, Math.ceil(size / 2)), now, seed: 7 }).current();
  const kinds = ['failed', 'stalled', 'stuck', 'resolved'] as const;
  const events: AlertEvent[] = tasks.map((task, i): AlertEvent => {
    const kind = kinds[i % kinds.length] ?? 'failed';
    const alertKind = kind === 'resolved' ? 'stalled' : kind;
    return {
      id: `bench:${alertKind}:${task.id}:${now}`,
      kind,
      alertKind,
      schedule: 'sales',
      subject: String(task.id),
      repeat: i % 10 === 9,
      at: now,
      since: now - 20 * 60_000,
      task: { ...task, response: `${task.response ?? ''} <details> & "quotes" that must be escaped`.trim() },
      ...(kind === 'resolved' ? { reason: 'progress moved' } : {}),
    };
  });
  return { id: `sales:${now}`, schedule: 'sales', createdAt: now, events };
}

export async function benchRender(size: number, opts: { maxRuns: number; budgetMs: number }): Promise<RenderResult> {
  const batch = batchOf(size, Date.UTC(2025, 0, 6, 10, 0, 0));
  const options = { hostname: 'batchwatch.bench.local' };
  for (let i = 0; i < 5; i++) renderBatch(batch, options);
  const message = renderBatch(batch, options);
  const durations = await sample(() => renderBatch(batch, options), { ...opts, minRuns: 5 });
  return {
    events: size,
    perRender: summarize(durations),
    textBytes: Buffer.byteLength(message.text),
    htmlBytes: Buffer.byteLength(message.html),
  };
}
