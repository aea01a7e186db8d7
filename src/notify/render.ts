/** Renders one notification batch into one mail (subject, text, HTML, threading headers); pure. */
import { EVENT_KINDS, type AlertEvent, type EventKind, type NotificationBatch } from '../core/model.ts';
import { associateLabel } from '../core/task.ts';
import { oneLine } from '../core/text.ts';
import { atomSafe, block, escapeHtml, formatElapsed, isoUtc, messageIdDomain, truncate } from './format.ts';

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  messageId: string;
  inReplyTo?: string;
  references: string[];
}

export interface RenderOptions {
  /** The sending host, named in the footer. */
  hostname: string;
  /** Domain of Message-IDs and thread roots (default: the hostname). */
  idDomain?: string;
}

/** Fixed order of kinds in the subject summary and in X-Batchwatch-Events. */
const KIND_ORDER = EVENT_KINDS;
const MAX_REFERENCES = 20;
const SUBJECT_NAME_MAX = 80;
const SUBJECT_MAX = 250;

const isFiring = (event: AlertEvent): boolean => event.kind !== 'resolved';

/**
 * One mail for one batch. Pure: the same batch renders to the same message (including Message-ID),
 * so a retried send is recognisable as the same mail.
 */
export function renderBatch(batch: NotificationBatch, opts: RenderOptions): RenderedMessage {
  const domain = messageIdDomain(opts.idDomain ?? opts.hostname);
  const firing = batch.events.filter(isFiring).length;
  const resolved = batch.events.length - firing;
  const subject = renderSubject(batch, firing, resolved);
  const references = threadRoots(batch, domain);
  const sections = batch.events.map((event) => describeEvent(event));
  const footer = footerLines(batch, opts.hostname);

  const message: RenderedMessage = {
    subject,
    text: renderText(batch, firing, resolved, sections, footer),
    html: renderHtml(subject, batch, firing, resolved, sections, footer),
    headers: {
      'X-Batchwatch-Events': eventsHeader(batch.events),
      'X-Batchwatch-Schedule': oneLine(batch.schedule),
      'X-Batchwatch-Status': firing > 0 ? 'firing' : 'resolved',
      'X-Batchwatch-Batch': oneLine(batch.id),
      'Auto-Submitted': 'auto-generated',
    },
    messageId: `<batch.${atomSafe(batch.id)}@${domain}>`,
    references,
  };
  if (references.length > 0) message.inReplyTo = references.join(' ');
  return message;
}

/** `failed=4711; stalled=4712,4713`: ids are task ids, the schedule for superoffice-down. */
export function eventsHeader(events: readonly AlertEvent[]): string {
  const byKind = new Map<EventKind, string[]>();
  for (const event of events) {
    const ids = byKind.get(event.kind) ?? [];
    const id = oneLine(event.subject).replace(/[,;=\s]/g, '_');
    if (!ids.includes(id)) ids.push(id);
    byKind.set(event.kind, ids);
  }
  const ordered = [...KIND_ORDER, ...[...byKind.keys()].filter((kind) => !KIND_ORDER.includes(kind))];
  return ordered
    .filter((kind) => byKind.has(kind))
    .map((kind) => `${kind}=${(byKind.get(kind) ?? []).join(',')}`)
    .join('; ');
}

function renderSubject(batch: NotificationBatch, firing: number, resolved: number): string {
  const prefix = firing > 0 ? `[FIRING:${firing}]` : `[RESOLVED:${resolved}]`;
  const only = batch.events.length === 1 ? batch.events[0] : undefined;
  const body = only ? singleEventSubject(only) : summarySubject(batch);
  return truncate(oneLine(`${prefix} ${body}`), SUBJECT_MAX);
}

/** ' (reminder)' or ' (silence ended)': a firing event that is not the alert's first notification. */
function followUpNote(event: AlertEvent): string {
  if (event.kind === 'resolved') return '';
  return event.repeat ? ' (reminder)' : event.release ? ' (silence ended)' : '';
}

function singleEventSubject(event: AlertEvent): string {
  const label = `${event.alertKind}${followUpNote(event)}`;
  if (event.alertKind === 'superoffice-down') {
    if (event.kind === 'resolved') return `${label}: schedule ${event.schedule} reachable again`;
    const polls = event.consecutiveFailures ? ` (${event.consecutiveFailures} failed polls)` : '';
    return `${label}: schedule ${event.schedule} unreachable${polls}`;
  }
  return `${label}: ${taskSubject(event)} — ${event.schedule}`;
}

function taskSubject(event: AlertEvent): string {
  const task = event.task;
  if (!task) return `task ${event.subject}`;
  return `task ${task.id} "${truncate(oneLine(task.name), SUBJECT_NAME_MAX)}" (associate ${associateLabel(task.associateId)})`;
}

function summarySubject(batch: NotificationBatch): string {
  const parts: string[] = [];
  for (const kind of KIND_ORDER) {
    const ofKind = batch.events.filter((event) => event.kind === kind);
    if (ofKind.length === 0) continue;
    const reminders = ofKind.filter((event) => event.repeat).length;
    const note = reminders === 0 ? '' : reminders === ofKind.length ? ' (reminder)' : ` (${reminders} reminder${reminders > 1 ? 's' : ''})`;
    parts.push(`${ofKind.length} ${kind}${note}`);
  }
  return `${batch.schedule}: ${parts.join(', ')}`;
}

/** Thread roots: one stable pseudo Message-ID per task (or per schedule for superoffice-down). */
function threadRoots(batch: NotificationBatch, domain: string): string[] {
  const roots: string[] = [];
  for (const event of batch.events) {
    const root =
      event.alertKind === 'superoffice-down'
        ? `<superoffice-down.${atomSafe(event.schedule)}@${domain}>`
        : `<task-${atomSafe(event.subject)}.${atomSafe(event.schedule)}@${domain}>`;
    if (!roots.includes(root)) roots.push(root);
  }
  return roots.slice(0, MAX_REFERENCES);
}

interface Fact {
  label: string;
  value: string;
}

interface EventSection {
  status: 'FIRING' | 'RESOLVED';
  headline: string;
  facts: Fact[];
  summary: string;
  texts: Fact[];
}

function describeEvent(event: AlertEvent): EventSection {
  const status = isFiring(event) ? 'FIRING' : 'RESOLVED';
  const what =
    event.alertKind === 'superoffice-down'
      ? `schedule ${event.schedule}`
      : event.task
        ? `task ${event.task.id} "${oneLine(event.task.name)}"`
        : `task ${event.subject}`;
  return {
    status,
    headline: `${status} ${event.alertKind}${followUpNote(event)} — ${what}`,
    facts: event.alertKind === 'superoffice-down' ? scheduleFacts(event) : taskFacts(event),
    summary: summaryLine(event),
    texts: event.task
      ? [
          ...(event.task.description ? [{ label: 'Description', value: block(event.task.description) }] : []),
          ...(event.task.response ? [{ label: 'Response', value: block(event.task.response) }] : []),
        ]
      : [],
  };
}

function timeFacts(event: AlertEvent): Fact[] {
  if (event.kind === 'resolved') {
    return [
      { label: 'Since', value: `${isoUtc(event.since)} (lasted ${formatElapsed(event.at - event.since)})` },
      { label: 'Resolved at', value: isoUtc(event.at) },
      ...(event.acknowledged ? [{ label: 'Acknowledged', value: acknowledgement(event.acknowledged) }] : []),
    ];
  }
  return [
    { label: 'Since', value: `${isoUtc(event.since)} (for ${formatElapsed(event.at - event.since)})` },
    ...(event.release ? [{ label: 'Silenced', value: `from ${isoUtc(event.release.mutedAt)} until ${isoUtc(event.at)}` }] : []),
  ];
}

/** `alice at 2024-05-01T10:20:00Z: "restarting the mailer"` (operator text: one line, bounded). */
function acknowledgement(ack: NonNullable<AlertEvent['acknowledged']>): string {
  return `${truncate(oneLine(ack.author), 200)} at ${isoUtc(ack.at)}: "${truncate(oneLine(ack.comment), 1000)}"`;
}

function taskFacts(event: AlertEvent): Fact[] {
  const task = event.task;
  if (!task) return [{ label: 'Task', value: oneLine(event.subject) }, { label: 'Schedule', value: event.schedule }, ...timeFacts(event)];
  const progress =
    task.progressPercent === null
      ? 'unknown'
      : `${task.progressPercent}%${task.progressDescription ? ` — ${oneLine(task.progressDescription)}` : ''}`;
  return [
    { label: 'Task', value: `${task.id} ${oneLine(task.name)}` },
    { label: 'Associate', value: associateLabel(task.associateId) },
    { label: 'Schedule', value: event.schedule },
    { label: 'State', value: oneLine(task.state) },
    { label: 'Progress', value: progress },
    ...timeFacts(event),
    { label: 'Last started', value: task.lastStarted === null ? 'unknown' : isoUtc(task.lastStarted) },
    { label: 'Start count', value: task.startCount === null ? 'unknown' : String(task.startCount) },
  ];
}

function scheduleFacts(event: AlertEvent): Fact[] {
  const facts: Fact[] = [{ label: 'Schedule', value: event.schedule }];
  if (event.consecutiveFailures !== undefined) facts.push({ label: 'Failed polls', value: `${event.consecutiveFailures} in a row` });
  if (event.error) facts.push({ label: 'Last error', value: `${event.error.kind}: ${oneLine(event.error.message)}` });
  return [...facts, ...timeFacts(event)];
}

function summaryLine(event: AlertEvent): string {
  const lasting = formatElapsed(event.at - event.since);
  const reminder = event.repeat
    ? ' This is a reminder: the alert is still firing.'
    : event.release
      ? ' It was not mailed while a silence or maintenance window matched it; that has ended and the alert is still firing.'
      : '';
  if (event.kind === 'resolved') {
    const acked = event.acknowledged ? ` Acknowledged by ${truncate(oneLine(event.acknowledged.author), 200)}.` : '';
    return `Resolved${event.reason ? `: ${oneLine(event.reason)}` : ''}.${acked}`;
  }
  switch (event.alertKind) {
    case 'failed':
      return `The task failed.${reminder}`;
    case 'stalled':
      return `The task is running but its progress has not changed for ${lasting}.${reminder}`;
    case 'stuck':
      return `The task has been waiting in state New for ${lasting} without being picked up.${reminder}`;
    case 'superoffice-down':
      return `SuperOffice could not be polled for schedule ${event.schedule} for ${lasting}.${reminder}`;
  }
}

function footerLines(batch: NotificationBatch, hostname: string): string[] {
  return [
    `batchwatch on ${oneLine(hostname)} · schedule ${batch.schedule} · detected ${isoUtc(batch.createdAt)}`,
    `Batch ${oneLine(batch.id)} · events ${batch.events.map((event) => oneLine(event.id)).join(', ')}`,
  ];
}

function introLine(batch: NotificationBatch, firing: number, resolved: number): string {
  const alerts = (n: number) => `${n} alert${n === 1 ? '' : 's'}`;
  const parts = [firing > 0 ? `${alerts(firing)} firing` : '', resolved > 0 ? `${firing > 0 ? resolved : alerts(resolved)} resolved` : ''];
  return `${parts.filter(Boolean).join(', ')} on schedule ${batch.schedule}.`;
}

function renderText(batch: NotificationBatch, firing: number, resolved: number, sections: EventSection[], footer: string[]): string {
  const lines: string[] = [introLine(batch, firing, resolved), ''];
  for (const section of sections) {
    lines.push(section.headline);
    const width = Math.max(...section.facts.map((fact) => fact.label.length)) + 2;
    for (const fact of section.facts) lines.push(`  ${`${fact.label}:`.padEnd(width)}${fact.value}`);
    lines.push('', `  ${section.summary}`);
    for (const text of section.texts) {
      lines.push('', `  ${text.label}:`, ...text.value.split('\n').map((line) => (line ? `    ${line}` : '')));
    }
    lines.push('');
  }
  lines.push('-- ', ...footer);
  return `${lines.join('\n')}\n`;
}

function renderHtml(
  subject: string,
  batch: NotificationBatch,
  firing: number,
  resolved: number,
  sections: EventSection[],
  footer: string[],
): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">',
    `<p>${escapeHtml(introLine(batch, firing, resolved))}</p>`,
  ];
  for (const section of sections) {
    const colour = section.status === 'FIRING' ? '#b3261e' : '#1e7b34';
    out.push(`<h3 style="color:${colour};margin:18px 0 6px">${escapeHtml(section.headline)}</h3>`);
    out.push('<table style="border-collapse:collapse">');
    for (const fact of section.facts) {
      out.push(
        `<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">${escapeHtml(fact.label)}</th><td style="padding:2px 0">${escapeHtml(fact.value)}</td></tr>`,
      );
    }
    out.push('</table>');
    out.push(`<p>${escapeHtml(section.summary)}</p>`);
    for (const text of section.texts) {
      out.push(`<p style="margin:8px 0 2px"><strong>${escapeHtml(text.label)}</strong></p>`);
      out.push(`<pre style="white-space:pre-wrap;margin:0;padding:6px;background:#f4f4f4">${escapeHtml(text.value)}</pre>`);
    }
  }
  out.push('<hr style="border:0;border-top:1px solid #ccc;margin-top:18px">');
  out.push(`<p style="color:#666;font-size:12px">${footer.map((line) => escapeHtml(line)).join('<br>')}</p>`);
  out.push('</body></html>');
  return `${out.join('\n')}\n`;
}
