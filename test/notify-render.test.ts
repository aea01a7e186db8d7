import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderBatch, type RenderedMessage } from '../src/notify/render.ts';
import { formatElapsed, isoUtc } from '../src/notify/format.ts';
import { batch, cases, event, HOSTILE_NAME, task, T0 } from './notify-fixtures.ts';

const SNAPSHOTS = fileURLToPath(new URL('./notify-snapshots/', import.meta.url));
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';
const opts = { hostname: 'bw-host.example.com' };

function headerBlock(message: RenderedMessage): string {
  const lines = [
    `Subject: ${message.subject}`,
    `Message-ID: ${message.messageId}`,
    `In-Reply-To: ${message.inReplyTo ?? ''}`,
    `References: ${message.references.join(' ')}`,
    ...Object.entries(message.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\n')}\n\n`;
}

/** Compares with the stored file; UPDATE_SNAPSHOTS=1 rewrites it (review the diff before committing). */
function matchSnapshot(file: string, actual: string): void {
  const path = `${SNAPSHOTS}${file}`;
  if (UPDATE) {
    mkdirSync(SNAPSHOTS, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `missing snapshot ${file}; run with UPDATE_SNAPSHOTS=1`);
  assert.equal(actual, readFileSync(path, 'utf8'), `snapshot ${file} differs`);
}

describe('renderBatch snapshots', () => {
  for (const [name, b] of Object.entries(cases)) {
    it(`renders ${name} as text and HTML`, () => {
      const message = renderBatch(b, opts);
      matchSnapshot(`${name}.txt`, headerBlock(message) + message.text);
      matchSnapshot(`${name}.html`, message.html);
    });
  }
});

describe('renderBatch', () => {
  it('names the task and the associate in a single-event FIRING subject', () => {
    const m = renderBatch(cases.failed!, opts);
    assert.equal(m.subject, '[FIRING:1] failed: task 4711 "MailingSend" (associate 101) — sales');
    assert.equal(m.headers['X-Batchwatch-Events'], 'failed=4711');
    assert.equal(m.headers['X-Batchwatch-Schedule'], 'sales');
  });

  it('counts firing events and lists kinds with task ids in the events header', () => {
    const m = renderBatch(cases.multi!, opts);
    assert.equal(m.subject, '[FIRING:3] sales: 1 failed, 2 stalled, 1 resolved');
    assert.equal(m.headers['X-Batchwatch-Events'], 'failed=4711; stalled=4712,4713; resolved=4714');
  });

  it('says RESOLVED when nothing fires and names the schedule for superoffice-down', () => {
    assert.match(renderBatch(cases.resolved!, opts).subject, /^\[RESOLVED:1\] stalled: task 4712 "ExportToErp" \(associate 101\) — sales$/);
    const down = renderBatch(cases['superoffice-down']!, opts);
    assert.equal(down.subject, '[FIRING:1] superoffice-down: schedule sales unreachable (3 failed polls)');
    assert.equal(down.headers['X-Batchwatch-Events'], 'superoffice-down=sales');
    const up = renderBatch(batch([event({ kind: 'resolved', alertKind: 'superoffice-down' })]), opts);
    assert.equal(up.headers['X-Batchwatch-Events'], 'resolved=sales');
    assert.match(up.subject, /^\[RESOLVED:1\] superoffice-down: schedule sales/);
  });

  it('marks reminders as reminders', () => {
    const m = renderBatch(cases.reminder!, opts);
    assert.match(m.subject, /^\[FIRING:1\] stalled \(reminder\): task 4712/);
    assert.match(m.text, /This is a reminder/);
    assert.match(m.html, /This is a reminder/);
  });

  it('puts the facts first: task, associate, state, progress, since, last started, start count, then texts', () => {
    const { text } = renderBatch(cases.failed!, opts);
    const order = ['Task:', 'Associate:', 'State:', 'Progress:', 'Since:', 'Last started:', 'Start count:', 'Description:', 'Response:'];
    const positions = order.map((label) => text.indexOf(label));
    assert.ok(
      positions.every((p) => p >= 0),
      `all facts present: ${positions.join(',')}`,
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
    );
    assert.match(text, /Since: +2024-05-01T10:00:00Z \(for 17m\)/);
    assert.match(text, /Progress: +25% — Sending mails \(300\/1200\)/);
  });

  it('escapes a hostile task name in HTML and keeps it on one line in the subject', () => {
    const m = renderBatch(cases.hostile!, opts);
    assert.doesNotMatch(m.subject, /[\r\n]/);
    assert.match(m.subject, /Evil <script>alert\("x"\)<\/script> & 'co' Bcc: victim@example.com/);
    assert.ok(!m.html.includes('<script>'), 'no raw script tag');
    assert.ok(!m.html.includes('<img'), 'no raw img tag from Response');
    assert.ok(!m.html.includes('<b>bold'), 'no raw markup from Description');
    assert.ok(m.html.includes('Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;'));
    for (const value of Object.values(m.headers)) assert.doesNotMatch(value, /[\r\n]/);
    assert.ok(HOSTILE_NAME.includes('\r\n'));
  });

  it('threads mails about the same task under one stable root', () => {
    const first = renderBatch(batch([event({ kind: 'stalled' })], 'sales.aaaa'), opts);
    const second = renderBatch(batch([event({ kind: 'resolved', alertKind: 'stalled' })], 'sales.bbbb'), opts);
    const root = '<task-4711.sales@bw-host.example.com>';
    assert.deepEqual(first.references, [root]);
    assert.ok(second.references.includes(root));
    assert.equal(second.inReplyTo, root);
    assert.notEqual(first.messageId, second.messageId);
    assert.equal(renderBatch(batch([event({ kind: 'stalled' })], 'sales.aaaa'), opts).messageId, first.messageId, 'deterministic');
  });

  it('makes Message-IDs RFC 5322 safe whatever the batch id and hostname', () => {
    const m = renderBatch(batch([event({ kind: 'failed', task: task({ id: 7 }) })], 'sales:12 <x>@y'), { hostname: 'Bad Host_name!' });
    assert.match(m.messageId, /^<[A-Za-z0-9_=.-]+@[a-z0-9.-]+>$/);
    assert.notEqual(m.messageId, renderBatch(batch([event({ kind: 'failed' })], 'sales:12 <x>@z'), opts).messageId);
  });

  it('formats durations and times compactly', () => {
    assert.equal(formatElapsed(45_000), '45s');
    assert.equal(formatElapsed(17 * 60_000), '17m');
    assert.equal(formatElapsed(125 * 60_000), '2h5m');
    assert.equal(formatElapsed((3 * 24 + 4) * 3_600_000), '3d4h');
    assert.equal(isoUtc(T0), '2024-05-01T10:00:00Z');
  });
});
