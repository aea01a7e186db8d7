import type { AlertEvent, BatchTaskInfo, NotificationBatch } from '../src/core/model.ts';

/** Plain data for notification tests: tasks and events as evaluate() would produce them. */
export const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const MIN = 60_000;

export function task(overrides: Partial<BatchTaskInfo> = {}): BatchTaskInfo {
  return {
    id: 4711,
    name: 'MailingSend',
    associateId: 101,
    detailsTable: null,
    detailsRecord: null,
    isSystemTask: false,
    isInternalTask: false,
    parameterObject: {},
    lastStarted: T0 - 30 * MIN,
    created: T0 - 60 * MIN,
    startCount: 1,
    databaseSerialNumber: null,
    context: null,
    result: null,
    state: 'Failed',
    description: 'Sends mailing 42 to 1200 recipients',
    response: 'SMTP relay refused: 554 message rejected\r\nat MailingSender.Run()',
    request: null,
    progressDescription: 'Sending mails (300/1200)',
    progressPercent: 25,
    ...overrides,
  };
}

export function event(overrides: Partial<AlertEvent> & Pick<AlertEvent, 'kind'>): AlertEvent {
  const alertKind = overrides.alertKind ?? (overrides.kind === 'resolved' ? 'failed' : overrides.kind);
  const t = overrides.task ?? (alertKind === 'superoffice-down' ? undefined : task());
  const base: AlertEvent = {
    // Like the real ids (src/core/event-id.ts): a resolution's id extends the id of what it resolves.
    id: `${alertKind}:${t?.id ?? 'sales'}:${T0}${overrides.kind === 'resolved' ? ':resolved' : ''}`,
    kind: overrides.kind,
    alertKind,
    schedule: 'sales',
    subject: t ? String(t.id) : 'sales',
    repeat: false,
    at: T0 + 17 * MIN,
    since: T0,
  };
  if (t) base.task = t;
  return { ...base, ...overrides, alertKind };
}

export function batch(events: AlertEvent[], id = 'sales.0123456789abcdef0123'): NotificationBatch {
  return { id, schedule: 'sales', createdAt: T0 + 17 * MIN, events };
}

export const HOSTILE_NAME = 'Evil <script>alert("x")</script> & \'co\'\r\nBcc: victim@example.com';

export const cases: Record<string, NotificationBatch> = {
  failed: batch([event({ kind: 'failed' })]),
  stalled: batch([
    event({
      kind: 'stalled',
      task: task({
        id: 4712,
        name: 'ExportToErp',
        state: 'Started',
        startCount: 3,
        description: null,
        response: null,
        progressPercent: 40,
        progressDescription: 'Exporting orders',
      }),
    }),
  ]),
  stuck: batch([
    event({
      kind: 'stuck',
      at: T0 + 10 * MIN,
      task: task({
        id: 4713,
        name: 'ImportLeads',
        state: 'New',
        lastStarted: null,
        startCount: 0,
        progressPercent: null,
        progressDescription: null,
        response: null,
      }),
    }),
  ]),
  'superoffice-down': batch([
    event({
      kind: 'superoffice-down',
      at: T0 + 3 * MIN,
      consecutiveFailures: 3,
      error: { kind: 'transport', message: 'connect ECONNREFUSED 10.0.0.5:443' },
    }),
  ]),
  resolved: batch([
    event({
      kind: 'resolved',
      alertKind: 'stalled',
      at: T0 + 95 * MIN,
      reason: 'progress moved',
      task: task({
        id: 4712,
        name: 'ExportToErp',
        state: 'Started',
        description: null,
        response: null,
        progressPercent: 55,
        progressDescription: 'Exporting orders',
      }),
    }),
  ]),
  reminder: batch([
    event({
      kind: 'stalled',
      repeat: true,
      at: T0 + 4 * 60 * MIN + 15 * MIN,
      task: task({
        id: 4712,
        name: 'ExportToErp',
        state: 'Started',
        description: null,
        response: null,
        progressPercent: 40,
        progressDescription: 'Exporting orders',
      }),
    }),
  ]),
  multi: batch([
    event({ kind: 'failed' }),
    event({ kind: 'stalled', task: task({ id: 4712, name: 'ExportToErp', state: 'Started', description: null, response: null }) }),
    event({ kind: 'stalled', task: task({ id: 4713, name: 'ImportLeads', state: 'Aquired', description: null, response: null }) }),
    event({
      kind: 'resolved',
      alertKind: 'stuck',
      reason: 'task vanished',
      task: task({ id: 4714, name: 'Cleanup', state: 'New', description: null, response: null }),
    }),
  ]),
  acknowledged: batch([
    event({
      kind: 'resolved',
      alertKind: 'failed',
      at: T0 + 95 * MIN,
      reason: 'task succeeded (Succeeded)',
      acknowledged: { author: 'alice <b>', comment: 'restarting the mail relay\r\n<script>x</script>', at: T0 + 20 * MIN },
      task: task({ state: 'Succeeded', progressPercent: 100, progressDescription: null, response: null }),
    }),
  ]),
  released: batch([
    event({
      kind: 'stalled',
      id: `stalled:4712:${T0}:u${T0 + 5 * MIN}`,
      at: T0 + 130 * MIN,
      release: { mutedAt: T0 + 5 * MIN },
      task: task({
        id: 4712,
        name: 'ExportToErp',
        state: 'Started',
        description: null,
        response: null,
        progressPercent: 40,
        progressDescription: 'Exporting orders',
      }),
    }),
  ]),
  hostile: batch([
    event({
      kind: 'failed',
      id: `failed:4711:${T0 + 1}`,
      task: task({
        name: HOSTILE_NAME,
        description: '<b>bold</b> & "quoted"',
        response: '<img src=x onerror=alert(1)>',
        progressDescription: '<i>50%</i>',
      }),
    }),
  ]),
};
