/** Text and JSON output of `poll-once`: tasks and events of a poll. */
import type { AlertEvent, TaskRecord } from '../core/model.ts';
import { associateLabel } from '../core/task.ts';
import { oneLine } from '../core/text.ts';
import type { PollReport } from '../monitor/poll.ts';
import { iso, pad } from './table.ts';

export function describeEvent(event: AlertEvent): string {
  const what = event.task
    ? `task ${event.task.id} "${oneLine(event.task.name)}" (associate ${associateLabel(event.task.associateId)})`
    : `schedule ${event.schedule}`;
  const kind = event.kind === 'resolved' ? `resolved ${event.alertKind}` : event.repeat ? `${event.kind} (reminder)` : event.kind;
  return `${kind}: ${what} since ${iso(event.since)}${event.reason ? ` — ${event.reason}` : ''}${event.error ? ` — ${event.error.kind}: ${event.error.message}` : ''}`;
}

/**
 * When the task entered its current state. A task seen for the first time has not been watched
 * changing, so its own LastStarted (or Created) says more than "now".
 */
function stateSinceBestGuess(record: TaskRecord): number {
  if (record.stateSince !== record.firstSeenAt) return record.stateSince;
  return record.task.lastStarted ?? record.task.created ?? record.stateSince;
}

/** The --json shape of one schedule's poll: the tasks as SuperOffice returned them, and the events. */
export function reportJson(report: PollReport) {
  return {
    schedule: report.schedule,
    result: report.result,
    durationMs: Math.round(report.durationMs),
    error: report.outcome.ok ? null : report.outcome.error,
    unreadable: report.outcome.ok ? (report.outcome.unreadable ?? []) : [],
    maintenance: report.outcome.ok ? null : (report.outcome.maintenance ?? null),
    tasks: Object.values(report.snapshot.tasks)
      .sort((a, b) => a.task.associateId - b.task.associateId || a.task.id - b.task.id)
      .map((record) => ({ ...record.task, stateSince: stateSinceBestGuess(record) })),
    events: report.events,
  };
}

/** The human-readable poll-once output: tasks per associate, then events. */
export function formatReport(report: PollReport): string {
  const lines: string[] = [`schedule ${report.schedule}: ${report.result} in ${Math.round(report.durationMs)} ms`];
  if (!report.outcome.ok) lines.push(`  SuperOffice error (${report.outcome.error.kind}): ${report.outcome.error.message}`);
  if (!report.outcome.ok && report.outcome.maintenance) {
    lines.push(`  tenant in planned maintenance (${oneLine(report.outcome.maintenance.state)}): not counted as an outage`);
  }
  const records = Object.values(report.snapshot.tasks).sort((a, b) => a.task.associateId - b.task.associateId || a.task.id - b.task.id);
  if (report.outcome.ok) {
    if (records.length === 0) lines.push('  no tasks');
    else {
      const rows = [['associate', 'id', 'name', 'state', 'progress', 'since']];
      for (const record of records) {
        const { task } = record;
        const progress = task.progressPercent == null ? '-' : `${task.progressPercent}%`;
        rows.push([
          associateLabel(task.associateId),
          String(task.id),
          oneLine(task.name),
          task.state,
          progress,
          iso(stateSinceBestGuess(record)),
        ]);
      }
      lines.push(pad(rows).replace(/^/gm, '  '));
    }
    const unreadable = report.outcome.unreadable ?? [];
    if (unreadable.length > 0) lines.push(`  left out (a field cannot be read; last known state kept): ${unreadable.length}`);
    for (const task of unreadable) lines.push(`    task ${task.id ?? '(unknown id)'}: ${task.field}: ${oneLine(task.problem)}`);
  }
  lines.push(report.events.length ? `  events (${report.events.length}):` : '  events: none');
  for (const event of report.events) lines.push(`    ${describeEvent(event)}`);
  return lines.join('\n');
}
