/**
 * The status page as HTML, from the view model (status/model.ts). Pure; every value goes through the escaping
 * template (status/html.ts). No inline script or style: the page loads /status.css and /status.js (strict CSP).
 * `renderFragment` is the part /status.js swaps in on each refresh; `renderPage` wraps it in the document.
 */
import { describeMatchers } from '../core/matchers.ts';
import type { OutcomeStatus } from '../notify/pipeline.ts';
import { html, type Html, type HtmlValue } from './html.ts';
import type { AlertRow, Bounded, NotificationRow, RunningRow, ScheduleRow, SilenceRow, StatusView, WindowRow } from './model.ts';
import { relativeText, shortDuration, utcText } from './time-text.ts';

/** Seconds between refreshes, by default and within bounds (`/?refresh=N`). */
export const DEFAULT_REFRESH_SECONDS = 10;
export const MIN_REFRESH_SECONDS = 1;
export const MAX_REFRESH_SECONDS = 3600;

export const STATUS_FRAGMENT_PATH = '/status/fragment';

const NOTIFICATION_LABELS: Record<OutcomeStatus, string> = {
  sent: 'sent',
  already_sent: 'already sent',
  silenced: 'silenced',
  acknowledged: 'acknowledged',
  retrying: 'retrying',
  paused: 'paused',
  given_up: 'given up',
  rejected: 'rejected',
};

const NOTIFICATION_TONE: Record<OutcomeStatus, 'ok' | 'muted' | 'warn' | 'bad'> = {
  sent: 'ok',
  already_sent: 'muted',
  silenced: 'muted',
  acknowledged: 'muted',
  retrying: 'warn',
  paused: 'warn',
  given_up: 'bad',
  rejected: 'bad',
};

const SCHEDULE_TONE: Record<ScheduleRow['state'], 'ok' | 'warn' | 'bad' | 'muted'> = {
  up: 'ok',
  maintenance: 'warn',
  down: 'bad',
  'not polled yet': 'muted',
};

function time(ms: number | null, now: number, none = '—'): Html {
  if (ms === null) return html`<span class="none">${none}</span>`;
  return html`<time datetime="${new Date(ms).toISOString()}" title="${utcText(ms)}">${relativeText(ms, now)}</time>`;
}

function badge(text: string, tone: string): Html {
  return html`<span class="badge ${tone}">${text}</span>`;
}

/** A table that reads as cards on a phone: each cell carries its column name (data-label, shown by the CSS). */
function table(columns: readonly string[], rows: readonly (readonly HtmlValue[])[], className: string): Html {
  return html`<table class="${className}"><thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody>${rows.map(
    (cells) => html`<tr>${cells.map((cell, i) => html`<td data-label="${columns[i] ?? ''}"><div class="value">${cell}</div></td>`)}</tr>`,
  )}</tbody></table>`;
}

/** "and K more": with a link where an API lists all of them; else `note` says what the page shows instead. */
function more(section: Bounded<unknown>, what: string, where: { api: string } | { note: string }): Html {
  if (section.more === 0) return html``;
  const tail = 'api' in where ? html`all of them: <a href="${where.api}">${where.api}</a>` : where.note;
  return html`<p class="more">and ${section.more} more ${what} (${tail})</p>`;
}

function section(id: string, title: string, count: number | null, body: HtmlValue): Html {
  return html`<section id="${id}" aria-labelledby="${id}-title"><h2 id="${id}-title">${title}${count === null ? '' : html` <span class="count">${count}</span>`}</h2>${body}</section>`;
}

function taskCell(task: { id: number; name: string }): Html {
  return html`<span class="task-name">${task.name}</span> <span class="task-id">#${task.id}</span>`;
}

function schedulesSection(view: StatusView): Html {
  const now = view.generatedAt;
  const rows = view.schedules.map((s) => [
    html`<strong>${s.name}</strong>`,
    badge(s.state, SCHEDULE_TONE[s.state]),
    time(s.lastSuccessAt, now, 'never'),
    s.nextPollAt !== null && s.nextPollAt <= now ? html`<span class="none">due</span>` : time(s.nextPollAt, now, 'after the first poll'),
    scheduleNotes(s),
  ]);
  return section(
    'schedules',
    'Schedules',
    view.schedules.length,
    table(['Schedule', 'State', 'Last successful poll', 'Next poll', 'Notes'], rows, 'schedules'),
  );
}

function scheduleNotes(s: ScheduleRow): Html {
  const notes: Html[] = [html`<span>${s.tasks} tasks, ${s.alerts} alerts</span>`];
  if (s.maintenanceState) notes.push(html`<span>tenant reports ${s.maintenanceState}</span>`);
  if (s.lastError)
    notes.push(
      html`<span class="error">last poll failed${s.consecutiveFailures > 1 ? html` (${s.consecutiveFailures} in a row)` : ''}: ${s.lastError}</span>`,
    );
  return html`${notes.map((n, i) => html`${i > 0 ? html`<br>` : ''}${n}`)}`;
}

function alertTask(a: AlertRow): Html {
  if (a.kind === 'superoffice-down') return html`<span class="task-name">SuperOffice unreachable</span>`;
  if (a.task) return taskCell(a.task);
  return html`<span class="task-id">#${a.subject}</span>`;
}

function muting(a: AlertRow, now: number): Html {
  const lines: Html[] = [];
  if (a.silencedBy === null) lines.push(html`<span class="none">unknown (silences could not be read)</span>`);
  for (const m of a.silencedBy ?? []) {
    lines.push(
      m.kind === 'maintenance'
        ? html`<span>maintenance window ${m.id.replace(/^maintenance:/, '')} until ${time(m.endsAt, now)}</span>`
        : html`<span>silenced by ${m.author} until ${time(m.endsAt, now)}: <q>${m.comment}</q></span>`,
    );
  }
  if (a.acknowledged)
    lines.push(
      html`<span>acknowledged by ${a.acknowledged.author} ${time(a.acknowledged.at, now)}: <q>${a.acknowledged.comment}</q></span>`,
    );
  if (lines.length === 0) return html`<span class="none">—</span>`;
  return html`${lines.map((l, i) => html`${i > 0 ? html`<br>` : ''}${l}`)}`;
}

function alertsSection(view: StatusView): Html {
  const now = view.generatedAt;
  const { alerts } = view;
  const total = alerts.items.length + alerts.more;
  const body =
    total === 0
      ? html`<p class="empty">No active alerts.</p>`
      : html`${table(
          ['Kind', 'Task', 'Associate', 'Schedule', 'Since', 'Silenced / acknowledged'],
          alerts.items.map((a) => [
            badge(a.kind, a.kind === 'superoffice-down' || a.kind === 'failed' ? 'bad' : 'warn'),
            alertTask(a),
            a.task?.associate ?? '—',
            a.schedule,
            time(a.since, now),
            muting(a, now),
          ]),
          'alerts',
        )}${more(alerts, 'alerts', { api: '/api/v1/alerts' })}`;
  return section('alerts', 'Active alerts', total, body);
}

function progress(r: RunningRow): Html {
  if (r.progressPercent === null)
    return html`<progress max="100" aria-label="progress of ${r.name}: not reported"></progress> <span class="none">not reported</span>`;
  const percent = Math.round(r.progressPercent);
  return html`<progress max="100" value="${percent}" aria-label="progress of ${r.name}">${percent} %</progress> <span class="percent">${percent} %</span>`;
}

function runningSection(view: StatusView): Html {
  const { running } = view;
  const total = running.items.length + running.more;
  const body =
    total === 0
      ? html`<p class="empty">No task is running.</p>`
      : html`${table(
          ['Task', 'Associate', 'Schedule', 'Progress', 'Unchanged for', 'Description'],
          running.items.map((r) => [
            html`${taskCell(r)}${r.alerts.map((k) => html` ${badge(k, 'warn')}`)}`,
            r.associate,
            r.schedule,
            progress(r),
            r.alerts.includes('stalled') ? html`<span class="error">${shortDuration(r.frozenForMs)}</span>` : shortDuration(r.frozenForMs),
            r.description ?? html`<span class="none">—</span>`,
          ]),
          'running',
        )}${more(running, 'running tasks', {
          note: `not listed; here and in /api/v1/status only the ${running.items.length} unchanged longest`,
        })}`;
  return section('running', 'Running tasks', total, body);
}

function notificationSubject(n: NotificationRow): Html {
  return html`${n.subject ?? html`<span class="none">(no subject)</span>`}${n.detail ? html`<br><span class="detail">${n.detail}</span>` : ''}`;
}

function notificationsSection(view: StatusView): Html {
  const now = view.generatedAt;
  const { notifications } = view;
  if (notifications === null)
    return section('notifications', 'Latest notifications', null, html`<p class="empty">The notification log could not be read.</p>`);
  const body =
    notifications.items.length === 0
      ? html`<p class="empty">No notification yet.</p>`
      : table(
          ['Time', 'Outcome', 'Schedule', 'Subject'],
          notifications.items.map((n) => [
            time(n.at, now),
            badge(NOTIFICATION_LABELS[n.status], NOTIFICATION_TONE[n.status]),
            n.schedule,
            notificationSubject(n),
          ]),
          'notifications',
        );
  return section('notifications', 'Latest notifications', null, body);
}

function silenceRow(s: SilenceRow, now: number): HtmlValue[] {
  return [
    html`<code>${describeMatchers(s.matchers)}</code>`,
    s.state === 'active'
      ? html`until ${time(s.endsAt, now)}`
      : html`${badge('pending', 'muted')} from ${time(s.startsAt, now)} until ${time(s.endsAt, now)}`,
    s.author,
    s.comment,
  ];
}

function windowLine(w: WindowRow, now: number): Html {
  const when = w.inForce
    ? html`<strong>in force</strong> until ${time(w.inForce.endsAt, now)}`
    : html`next ${time(w.nextStart, now, 'never')}`;
  return html`<li>maintenance window <strong>${w.name}</strong> (<code>${describeMatchers(w.match)}</code>): ${when}</li>`;
}

function silencesSection(view: StatusView): Html {
  const now = view.generatedAt;
  const { silences } = view;
  const total = silences ? silences.items.length + silences.more : null;
  const list =
    silences === null
      ? html`<p class="empty">Silences could not be read.</p>`
      : total === 0
        ? html`<p class="empty">No active silence.</p>`
        : html`${table(
            ['Matches', 'When', 'Author', 'Comment'],
            silences.items.map((s) => silenceRow(s, now)),
            'silences',
          )}${more(silences, 'silences', { api: '/api/v1/silences' })}`;
  const windows = view.windows.length === 0 ? html`` : html`<ul class="windows">${view.windows.map((w) => windowLine(w, now))}</ul>`;
  return section('silences', 'Active silences', total, html`${list}${windows}`);
}

function summary(view: StatusView): string {
  const up = view.schedules.filter((s) => s.state === 'up').length;
  const alerts = view.alerts.items.length + view.alerts.more;
  const running = view.running.items.length + view.running.more;
  return `${up} of ${view.schedules.length} schedules up · ${alerts} active ${alerts === 1 ? 'alert' : 'alerts'} · ${running} running`;
}

/** The page title: the alert count first, so a tab shows it. */
export function pageTitle(view: StatusView): string {
  const alerts = view.alerts.items.length + view.alerts.more;
  return `${alerts > 0 ? `(${alerts}) ` : ''}batchwatch status`;
}

/** The part that is replaced on each refresh. */
export function renderFragment(view: StatusView): Html {
  const problems = [...(view.stale ? ['Redis cannot be read right now: what is shown may be out of date.'] : []), ...view.problems];
  return html`<div id="status-content" data-title="${pageTitle(view)}">
<p class="summary">${summary(view)}</p>
<p class="meta">Updated <time datetime="${new Date(view.generatedAt).toISOString()}">${utcText(view.generatedAt)}</time></p>
${problems.length > 0 ? html`<div class="problems" role="alert"><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
${alertsSection(view)}
${runningSection(view)}
${schedulesSection(view)}
${silencesSection(view)}
${notificationsSection(view)}
</div>`;
}

/** The whole document. `refreshSeconds` is how often /status.js fetches the fragment again. */
export function renderPage(view: StatusView, refreshSeconds: number = DEFAULT_REFRESH_SECONDS): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${pageTitle(view)}</title>
<link rel="stylesheet" href="/status.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<script type="module" src="/status.js"></script>
</head>
<body>
<header>
<h1>batchwatch</h1>
<p class="refresh">Refreshes every ${refreshSeconds} s <span id="refresh-state" role="status"></span></p>
</header>
<main id="status" data-refresh="${refreshSeconds}" data-fragment="${STATUS_FRAGMENT_PATH}">
${renderFragment(view)}
</main>
<footer>
<p>This page is read-only. Silence or acknowledge alerts with <code>batchwatch silence add</code> and <code>batchwatch ack</code>, or through the API
(<code>POST /api/v1/silences</code>, <code>POST /api/v1/acks</code>; with <code>http.adminToken</code> set they need it as a Bearer token).
The same data as JSON: <a href="/api/v1/status">/api/v1/status</a>.</p>
</footer>
</body>
</html>
`;
}
