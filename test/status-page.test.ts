import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { emptySnapshot, type ActiveAlert, type AlertKind, type BatchTaskInfo, type Snapshot } from '../src/core/model.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { STATUS_CSP, statusRoutes } from '../src/http/status-routes.ts';
import type { HistoryEntry } from '../src/notify/history.ts';
import { secrets } from '../src/redact/secrets.ts';
import type { AlertAnnotation, SilenceView } from '../src/silence/controls.ts';
import { statusJson } from '../src/status/json.ts';
import { buildStatus, compareAlerts, compareRunning, nextPollAt, selectRows, type StatusInput } from '../src/status/model.ts';
import { renderFragment, renderPage } from '../src/status/render.ts';
import { mulberry32 } from './helpers/prng.ts';
import { MINUTE, SECOND, T0, task } from './helpers/tasks.ts';

const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';

function snapshotWith(
  schedule: string,
  tasks: BatchTaskInfo[],
  alerts: { kind: AlertKind; subject: string; firedAt: number }[],
  extra: Partial<Snapshot> = {},
): Snapshot {
  const snapshot: Snapshot = {
    ...emptySnapshot(schedule),
    version: 3,
    lastPollAt: T0 - 5 * SECOND,
    lastSuccessAt: T0 - 5 * SECOND,
    ...extra,
  };
  for (const t of tasks)
    snapshot.tasks[String(t.id)] = { task: t, firstSeenAt: T0 - 10 * MINUTE, stateSince: T0 - 10 * MINUTE, progressSince: T0 - 7 * MINUTE };
  for (const a of alerts) {
    const alert: ActiveAlert = {
      kind: a.kind,
      subject: a.subject,
      eventId: `${schedule}:${a.kind}:${a.subject}`,
      firedAt: a.firedAt,
      lastNotifiedAt: a.firedAt,
      repeats: 0,
    };
    snapshot.alerts[`${a.kind}:${a.subject}`] = alert;
  }
  return snapshot;
}

function input(overrides: Partial<StatusInput> = {}): StatusInput {
  const sales = snapshotWith(
    'sales',
    [
      task({ id: 1, name: HOSTILE, associateId: 0, state: 'Failed' }),
      task({
        id: 2,
        name: 'Export "all" & more',
        associateId: 101,
        state: 'Started',
        progressPercent: 37,
        progressDescription: `rows ${HOSTILE}`,
      }),
      task({ id: 3, name: 'Quick', associateId: 101, state: 'Aquired', progressPercent: null }),
    ],
    [
      { kind: 'failed', subject: '1', firedAt: T0 - 2 * MINUTE },
      { kind: 'stalled', subject: '2', firedAt: T0 - MINUTE },
    ],
  );
  const support = snapshotWith('support', [], [{ kind: 'superoffice-down', subject: 'support', firedAt: T0 - 3 * MINUTE }], {
    lastError: { kind: 'transport', message: `connect ECONNREFUSED ${HOSTILE}` },
    consecutiveFailures: 4,
    lastSuccessAt: T0 - 4 * MINUTE,
  });
  const annotations = new Map<string, AlertAnnotation>([
    [
      'sales:failed:1',
      {
        silencedBy: [{ kind: 'silence', id: 's1', comment: `relay ${HOSTILE}`, author: '<b>alice</b>', endsAt: T0 + 60 * MINUTE }],
        acknowledged: null,
        mutedSince: T0 - MINUTE,
      },
    ],
    ['sales:stalled:2', { silencedBy: [], acknowledged: { author: 'bob', comment: 'on it', at: T0 - 30 * SECOND }, mutedSince: null }],
  ]);
  const silences: SilenceView[] = [
    {
      id: 's1',
      matchers: { task: HOSTILE },
      startsAt: T0 - MINUTE,
      endsAt: T0 + 60 * MINUTE,
      comment: `relay ${HOSTILE}`,
      author: '<b>alice</b>',
      createdAt: T0 - MINUTE,
      state: 'active',
    },
    {
      id: 's0',
      matchers: { kind: 'failed' },
      startsAt: T0 - 90 * MINUTE,
      endsAt: T0 - 60 * MINUTE,
      comment: 'old',
      author: 'carol',
      createdAt: T0 - 90 * MINUTE,
      state: 'expired',
    },
  ];
  const notifications: HistoryEntry[] = [
    {
      at: T0 - 10 * SECOND,
      batchId: 'b2',
      schedule: 'sales',
      status: 'given_up',
      subject: `[FIRING:1] failed: ${HOSTILE}`,
      eventIds: ['e1'],
      detail: `550 ${HOSTILE}`,
    },
    { at: T0 - 20 * SECOND, batchId: 'b1', schedule: 'sales', status: 'sent', subject: 'ok', eventIds: ['e0'] },
  ];
  return {
    now: T0,
    schedules: [
      { name: 'sales', timing: { every: 60 * SECOND }, snapshot: sales },
      { name: 'support', timing: { cron: '*/5 * * * *' }, snapshot: support },
      { name: 'new', timing: { every: 60 * SECOND }, snapshot: undefined },
    ],
    snapshotsCurrent: true,
    annotations,
    silences,
    windows: [],
    notifications,
    problems: [],
    ...overrides,
  };
}

describe('status page: the view model (pure)', () => {
  it('schedules are up, down or not polled yet, with the next poll from `every` or cron', () => {
    const view = buildStatus(input());
    assert.deepEqual(
      view.schedules.map((s) => [s.name, s.state]),
      [
        ['sales', 'up'],
        ['support', 'down'],
        ['new', 'not polled yet'],
      ],
    );
    assert.equal(view.schedules[0]!.nextPollAt, T0 + 55 * SECOND);
    assert.equal(view.schedules[1]!.nextPollAt, T0 + 5 * MINUTE);
    assert.equal(view.schedules[2]!.nextPollAt, null);
    assert.equal(nextPollAt({ cron: '0 3 * * *', tz: 'Europe/Oslo' }, null, T0), Date.UTC(2025, 0, 7, 2, 0, 0));
    const maintenance = snapshotWith('m', [], [], { maintenance: { state: 'OfflineMaintenance', since: T0 } });
    assert.equal(
      buildStatus(input({ schedules: [{ name: 'm', timing: { every: 1000 }, snapshot: maintenance }] })).schedules[0]!.state,
      'maintenance',
    );
  });

  it('alerts: superoffice-down first, associate 0 is "system", silences and acknowledgements attached', () => {
    const view = buildStatus(input());
    assert.deepEqual(
      view.alerts.items.map((a) => `${a.kind}:${a.subject}`),
      ['superoffice-down:support', 'failed:1', 'stalled:2'],
    );
    const failed = view.alerts.items.find((a) => a.kind === 'failed')!;
    assert.equal(failed.task?.associate, 'system');
    assert.equal(failed.silencedBy?.[0]?.author, '<b>alice</b>');
    assert.equal(view.alerts.items.find((a) => a.kind === 'stalled')!.acknowledged?.author, 'bob');
    // Unreadable silences: unknown, not "none".
    assert.equal(buildStatus(input({ annotations: null })).alerts.items[0]!.silencedBy, null);
  });

  it('running tasks: longest frozen first, with percent, and their alerts; expired silences are left out', () => {
    const view = buildStatus(input());
    assert.deepEqual(
      view.running.items.map((r) => [r.id, r.progressPercent, r.frozenForMs, r.alerts]),
      [
        [2, 37, 7 * MINUTE, ['stalled']],
        [3, null, 7 * MINUTE, []],
      ],
    );
    assert.deepEqual(
      view.silences?.items.map((s) => s.id),
      ['s1'],
    );
  });

  it('every list is bounded and says how many more there are', () => {
    const many = Array.from({ length: 30 }, (_, i) => task({ id: 100 + i, state: 'Started', progressPercent: i }));
    const big = snapshotWith(
      'big',
      many,
      many.map((t) => ({ kind: 'stalled' as const, subject: String(t.id), firedAt: T0 - t.id })),
    );
    const view = buildStatus(input({ schedules: [{ name: 'big', timing: { every: 1000 }, snapshot: big }] }), {
      alerts: 5,
      running: 7,
      notifications: 1,
      silences: 1,
    });
    assert.deepEqual([view.alerts.items.length, view.alerts.more, view.running.items.length, view.running.more], [5, 25, 7, 23]);
    const html = renderFragment(view).text;
    assert.match(html, /and 25 more alerts/);
    // No API lists every running task: the page does not claim one does.
    assert.match(html, /and 23 more running tasks \(not listed; here and in \/api\/v1\/status only the 7 unchanged longest\)/);
    assert.match(html, /and 25 more alerts \(all of them: <a href="\/api\/v1\/alerts">/);
    assert.match(html, /30 active alerts/);
  });
});

describe('status page: picking the shown rows (bounded selection)', () => {
  it('the first K of many are exactly those a full sort would show; task ids compare as numbers', () => {
    const random = mulberry32(7);
    const kinds: AlertKind[] = ['failed', 'stalled', 'stuck'];
    const snapshots = ['a', 'b'].map((schedule) =>
      snapshotWith(
        schedule,
        Array.from({ length: 400 }, (_, i) => task({ id: i + 1, state: random() < 0.5 ? 'Started' : 'Failed' })),
        Array.from({ length: 400 }, (_, i) => ({
          kind: kinds[Math.floor(random() * kinds.length)]!,
          subject: String(i + 1),
          // Few distinct times, so that the tie-breaks decide.
          firedAt: T0 - Math.floor(random() * 4) * SECOND,
        })),
      ),
    );
    for (const snapshot of snapshots)
      for (const record of Object.values(snapshot.tasks)) record.progressSince = T0 - Math.floor(random() * 3) * MINUTE;
    for (const k of [0, 1, 7, 50, 1000]) {
      const selection = selectRows(snapshots, { alerts: k, running: k, notifications: 0, silences: 0 });
      const allAlerts = snapshots.flatMap((s) =>
        Object.values(s.alerts).map((alert) => ({ schedule: s.schedule, alert, task: s.tasks[alert.subject]?.task })),
      );
      const sorted = [...allAlerts].sort(compareAlerts);
      assert.deepEqual(
        selection.alerts.items.map((a) => a.alert.eventId),
        sorted.slice(0, k).map((a) => a.alert.eventId),
        `alerts, k=${k}`,
      );
      assert.equal(selection.alerts.more, Math.max(0, allAlerts.length - k));
      const allRunning = snapshots.flatMap((s) =>
        Object.values(s.tasks)
          .filter((r) => r.task.state === 'Started')
          .map((record) => ({ schedule: s.schedule, record, alerts: [] })),
      );
      assert.deepEqual(
        selection.running.items.map((r) => `${r.schedule}:${r.record.task.id}`),
        [...allRunning]
          .sort(compareRunning)
          .slice(0, k)
          .map((r) => `${r.schedule}:${r.record.task.id}`),
        `running, k=${k}`,
      );
    }
    // Same kind and time: task 9 before task 10 (a text comparison would put "10" first).
    const tie = snapshotWith(
      's',
      [],
      [
        { kind: 'failed', subject: '10', firedAt: T0 },
        { kind: 'failed', subject: '9', firedAt: T0 },
        { kind: 'failed', subject: '100', firedAt: T0 },
      ],
    );
    assert.deepEqual(
      buildStatus(input({ schedules: [{ name: 's', timing: { every: 1000 }, snapshot: tie }] })).alerts.items.map((a) => a.subject),
      ['9', '10', '100'],
    );
  });
});

describe('status page: rendering escapes what SuperOffice and people sent', () => {
  it('no hostile markup survives in the page; it reads as text', () => {
    const page = renderPage(buildStatus(input())).text;
    assert.doesNotMatch(page, /<img/i);
    assert.doesNotMatch(page, /<script>alert/i);
    assert.doesNotMatch(page, /<b>alice/);
    // The page's own script tag is the only one, and it has a src.
    assert.deepEqual(page.match(/<script[^>]*>/g), ['<script type="module" src="/status.js">']);
    assert.doesNotMatch(page, /<[a-z][^>]*\s(style|on[a-z]+)=/i, 'no inline style or event handler attributes');
    const escaped = '&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;';
    for (const where of ['task-name">', 'rows ', 'relay ', '550 ', 'ECONNREFUSED ', '[FIRING:1] failed: ']) {
      assert.ok(page.includes(`${where}${escaped}`), `escaped after ${where}`);
    }
    assert.ok(page.includes('Export &quot;all&quot; &amp; more'));
    assert.ok(page.includes('&lt;b&gt;alice&lt;/b&gt;'));
    // A value inside an attribute cannot close it.
    assert.ok(page.includes('aria-label="progress of Export &quot;all&quot; &amp; more"'));
  });

  it('what a person reads: states, percent, who silenced or acknowledged, the read-only note', () => {
    const page = renderPage(buildStatus(input())).text;
    assert.match(page, /<progress max="100" value="37"[^>]*>37 %<\/progress>/);
    assert.match(page, /silenced by &lt;b&gt;alice&lt;\/b&gt; until/);
    assert.match(page, /acknowledged by bob/);
    assert.match(page, /<span class="badge bad">down<\/span>/);
    assert.match(page, /<span class="badge bad">given up<\/span>/);
    assert.match(page, /last poll failed \(4 in a row\)/);
    assert.match(page, /This page is read-only/);
    assert.match(page, /<title>\(3\) batchwatch status<\/title>/);
    const unreadable = renderFragment(
      buildStatus(input({ notifications: null, silences: null, problems: ['the notification log could not be read: ECONNREFUSED'] })),
    ).text;
    assert.match(unreadable, /role="alert"><ul><li>the notification log could not be read: ECONNREFUSED/);
    assert.match(unreadable, /Silences could not be read/);
  });

  it('the JSON has the same data with ISO times', () => {
    const json = JSON.parse(JSON.stringify(statusJson(buildStatus(input())))) as {
      alerts: { items: { task: { name: string } | null; since: string }[] };
      schedules: { nextPollAt: string | null }[];
    };
    assert.equal(json.alerts.items.find((a) => a.task?.name === HOSTILE)?.since, new Date(T0 - 2 * MINUTE).toISOString());
    assert.equal(json.schedules[0]!.nextPollAt, new Date(T0 + 55 * SECOND).toISOString());
  });
});

const SECRET = 's3cret&<pass>"word';

describe('status page: routes', () => {
  let server: HttpServer;
  before(async () => {
    secrets.add(SECRET);
    const base = input();
    const sales = base.schedules[0]!.snapshot!;
    sales.tasks['2']!.task = { ...sales.tasks['2']!.task, progressDescription: `login with ${SECRET}` };
    const view = buildStatus(base);
    server = await startHttpServer({ host: '127.0.0.1', port: 0, routes: statusRoutes({ view: async () => view }) });
  });
  after(() => server.close());

  it('GET / is HTML under a strict CSP with nosniff; the assets are served with their types', async () => {
    const response = await fetch(`${server.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(csp, STATUS_CSP);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]) {
      assert.ok(csp.includes(directive), directive);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await response.text(), /<main id="status" data-refresh="10"/);
    for (const [path, type] of [
      ['/status.css', 'text/css; charset=utf-8'],
      ['/status.js', 'text/javascript; charset=utf-8'],
      ['/favicon.svg', 'image/svg+xml'],
      ['/status/fragment', 'text/html; charset=utf-8'],
      ['/api/v1/status', 'application/json; charset=utf-8'],
    ]) {
      const asset = await fetch(`${server.url}${path}`);
      assert.equal(asset.status, 200, path);
      assert.equal(asset.headers.get('content-type'), type, path);
      assert.equal(asset.headers.get('x-content-type-options'), 'nosniff', path);
      assert.ok((await asset.text()).length > 0, path);
    }
  });

  it('a secret that SuperOffice echoes is scrubbed from the page and the JSON, escaped or not', async () => {
    for (const path of ['/', '/status/fragment', '/api/v1/status']) {
      const body = await (await fetch(`${server.url}${path}`)).text();
      assert.match(body, /login with \*\*\*/, path);
      assert.doesNotMatch(body, /s3cret/i, path);
    }
  });

  it('HEAD / answers the headers without a body; other methods are 405 with Allow', async () => {
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-security-policy'), STATUS_CSP);
    assert.equal(await head.text(), '');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const answer = await fetch(`${server.url}/`, { method });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD', method);
    }
    const api = await fetch(`${server.url}/api/v1/status`, { method: 'POST' });
    assert.equal(api.status, 405);
    assert.match(api.headers.get('content-type') ?? '', /application\/json/);
  });

  it('?refresh sets the pace within bounds; a bad value is 400 saying what is allowed', async () => {
    assert.match(await (await fetch(`${server.url}/?refresh=2`)).text(), /data-refresh="2"/);
    for (const bad of ['0', 'abc', '1.5', '99999', '%3Cx%3E']) {
      const answer = await fetch(`${server.url}/?refresh=${bad}`);
      assert.equal(answer.status, 400, bad);
      assert.match(await answer.text(), /refresh must be a whole number of seconds from 1 to 3600/);
    }
  });
});

describe('status page: documentation', () => {
  it("README's HTTP section and the example config name the status page and /api/v1/status, and who can read them", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const http = readme.slice(readme.indexOf('## HTTP and metrics'), readme.indexOf('| metric |', readme.indexOf('## HTTP and metrics')));
    const routes = statusRoutes({ view: async () => buildStatus(input()) });
    for (const route of routes.filter((r) => r.method === 'GET'))
      assert.ok(http.includes(`\`${route.path}\``) || http.includes(`\`GET ${route.path}\``), route.path);
    assert.match(http, /`GET \/` \(the \[status page\]/);
    assert.match(http, /silence comments and their\s+authors/);
    const network = readme.slice(readme.indexOf('### Network and TLS'));
    assert.match(network, /the status page \(`GET \/`: task names, SuperOffice's error texts, silence comments and their authors/);
    const example = readFileSync(new URL('../config/batchwatch.example.yaml', import.meta.url), 'utf8');
    const block = example.slice(example.indexOf('\nhttp:'), example.indexOf('\nmetrics:'));
    assert.match(block, /serves the status page \(GET \/\), \/api\/v1\/status,/);
    assert.match(block, /anyone who can reach the port reads the status page/);
  });
});
