/** GET /api/v1/status: the status page's view model as JSON, times as ISO-8601 UTC (like the other /api/v1 answers). */
import { isoOrNull as iso } from '../silence/json.ts';
import type { StatusView } from './model.ts';

export function statusJson(view: StatusView) {
  return {
    generatedAt: iso(view.generatedAt),
    stale: view.stale,
    problems: view.problems,
    schedules: view.schedules.map((s) => ({
      ...s,
      lastPollAt: iso(s.lastPollAt),
      lastSuccessAt: iso(s.lastSuccessAt),
      nextPollAt: iso(s.nextPollAt),
    })),
    alerts: {
      items: view.alerts.items.map((a) => ({
        ...a,
        since: iso(a.since),
        lastNotifiedAt: iso(a.lastNotifiedAt),
        silencedBy: a.silencedBy?.map((m) => ({ ...m, endsAt: iso(m.endsAt) })) ?? null,
        acknowledged: a.acknowledged ? { ...a.acknowledged, at: iso(a.acknowledged.at) } : null,
      })),
      more: view.alerts.more,
    },
    running: {
      items: view.running.items.map((r) => ({ ...r, lastStarted: iso(r.lastStarted), progressSince: iso(r.progressSince) })),
      more: view.running.more,
    },
    notifications: view.notifications
      ? { items: view.notifications.items.map((n) => ({ ...n, at: iso(n.at) })), more: view.notifications.more }
      : null,
    silences: view.silences
      ? { items: view.silences.items.map((s) => ({ ...s, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt) })), more: view.silences.more }
      : null,
    maintenance: view.windows.map((w) => ({
      name: w.name,
      match: w.match,
      inForce: w.inForce !== null,
      ...(w.inForce ? { startsAt: iso(w.inForce.startsAt), endsAt: iso(w.inForce.endsAt) } : {}),
      nextStart: iso(w.nextStart),
    })),
  };
}
