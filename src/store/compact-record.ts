/**
 * A task record as it is kept in memory between polls: the same values, in one compact object per
 * task (all fields in a literal, so V8 keeps them inline in a single shape shared by every task,
 * instead of a per-object dictionary), with compact strings (see string-pool.ts).
 */
import type { TaskRecord } from '../core/model.ts';
import type { BatchTaskInfo } from '../core/task.ts';
import type { StringPool } from './string-pool.ts';

const NO_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({});

export function compactParams(params: Readonly<Record<string, string>>, pool: StringPool): Record<string, string> {
  for (const _key in params) return pool.params(params);
  return NO_PARAMETERS as Record<string, string>;
}

/** Every field listed (the type makes a missing one a compile error). */
export function compactTask(t: BatchTaskInfo, pool: StringPool): BatchTaskInfo {
  const text = (value: string | null) => (value === null ? null : pool.string(value));
  return {
    id: t.id,
    name: pool.string(t.name),
    associateId: t.associateId,
    detailsTable: t.detailsTable,
    detailsRecord: t.detailsRecord,
    isSystemTask: t.isSystemTask,
    isInternalTask: t.isInternalTask,
    parameterObject: compactParams(t.parameterObject, pool),
    lastStarted: t.lastStarted,
    created: t.created,
    startCount: t.startCount,
    databaseSerialNumber: text(t.databaseSerialNumber),
    context: text(t.context),
    result: text(t.result),
    state: pool.string(t.state),
    description: text(t.description),
    response: text(t.response),
    request: text(t.request),
    progressDescription: text(t.progressDescription),
    progressPercent: t.progressPercent,
  };
}

export function compactRecord(record: TaskRecord, pool: StringPool): TaskRecord {
  return {
    task: compactTask(record.task, pool),
    firstSeenAt: record.firstSeenAt,
    stateSince: record.stateSince,
    progressSince: record.progressSince,
  };
}
