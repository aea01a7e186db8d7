/**
 * Validation of one BatchTaskInfo as it closes in the streaming reader: the raw element texts in, a BatchTaskInfo
 * or the first field that cannot be read out. Hand-written checks (this runs once per task on answers of
 * 100,000 tasks); the messages are the ones operators already know.
 */
import type { BatchTaskInfo } from '../core/task.ts';
import { detachOrNull, detachString } from '../runtime/detach-string.ts';
import { parseSoDate } from './dates.ts';

/** The fields read from a BatchTaskInfo, in the order they are checked (the order of the WSDL). */
export const TASK_FIELDS = [
  'Id',
  'Name',
  'AssociateId',
  'DetailsTable',
  'DetailsRecord',
  'IsSystemTask',
  'IsInternalTask',
  'ParameterObject',
  'LastStarted',
  'Created',
  'StartCount',
  'DatabaseSerialNumber',
  'Context',
  'Result',
  'State',
  'Description',
  'Response',
  'Request',
  'ProgressDescription',
  'ProgressPercent',
] as const;
export type TaskField = (typeof TASK_FIELDS)[number];

/** Slot of each field in RawTask.values. */
export const FIELD_SLOT: ReadonlyMap<string, number> = new Map(TASK_FIELDS.map((name, i) => [name, i]));
const slot = (name: TaskField) => FIELD_SLOT.get(name) as number;
const S = {
  Id: slot('Id'),
  Name: slot('Name'),
  AssociateId: slot('AssociateId'),
  DetailsTable: slot('DetailsTable'),
  DetailsRecord: slot('DetailsRecord'),
  IsSystemTask: slot('IsSystemTask'),
  IsInternalTask: slot('IsInternalTask'),
  LastStarted: slot('LastStarted'),
  Created: slot('Created'),
  StartCount: slot('StartCount'),
  DatabaseSerialNumber: slot('DatabaseSerialNumber'),
  Context: slot('Context'),
  Result: slot('Result'),
  State: slot('State'),
  Description: slot('Description'),
  Response: slot('Response'),
  Request: slot('Request'),
  ProgressDescription: slot('ProgressDescription'),
  ProgressPercent: slot('ProgressPercent'),
};

/** Limits per task; breaking one makes that task unreadable (not the whole answer). */
export const TASK_LIMITS = {
  /** Characters of one field's text (Description, Response and Request are the long ones). */
  fieldText: 1024 * 1024,
  /** Entries of ParameterObject. */
  parameters: 1000,
} as const;

/**
 * The texts of one BatchTaskInfo as they came: per slot undefined (absent), null (xsi:nil) or the text.
 * `overlong` / `tooManyParameters` note a broken TASK_LIMITS entry.
 */
export interface RawTask {
  values: (string | null | undefined)[];
  /** null: ParameterObject absent or nil. */
  parameters: [string | null, string | null][] | null;
  overlong: TaskField | null;
  tooManyParameters: boolean;
}

export function newRawTask(): RawTask {
  return { values: new Array<string | null | undefined>(TASK_FIELDS.length), parameters: null, overlong: null, tooManyParameters: false };
}

/** A task that could not be read: which field, why (with the clipped value), and what of it was readable. */
export interface TaskProblem {
  field: string;
  message: string;
  /** The Id, when that field itself was readable. */
  id: number | null;
  /** The raw Id text, for messages. */
  rawId: string | null;
  /** The AssociateId, when readable (to route the task to the schedule that owns the associate). */
  associateId: number | null;
}

export type TaskReading = { ok: true; task: BatchTaskInfo } | { ok: false; problem: TaskProblem };

/** A value quoted in a message: clipped, control characters (line breaks, terminal escapes) shown as "?". */
export const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

const INTEGER = /^[+-]?\d+$/;

class FieldProblem {
  constructor(
    readonly field: TaskField,
    readonly message: string,
  ) {}
}

function intOrNull(raw: string | null | undefined, field: TaskField): number | null {
  if (raw === undefined || raw === null) return null;
  const t = raw.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isSafeInteger(n) || !INTEGER.test(t)) throw new FieldProblem(field, `expected an integer, got "${short(t)}"`);
  return n;
}

function boolOrNull(raw: string | null | undefined, field: TaskField): boolean | null {
  if (raw === undefined || raw === null) return null;
  const t = raw.trim().toLowerCase();
  if (t === '') return null;
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw new FieldProblem(field, `expected a boolean, got "${short(t)}"`);
}

/** Lenient: SuperOffice sends 0..100; anything else is clamped, and non-numbers mean "no progress known". */
function progressOrNull(raw: string | null | undefined): number | null {
  if (raw === undefined || raw === null) return null;
  const t = raw.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return null;
  return Math.min(100, Math.max(0, n));
}

function dateOrNull(raw: string | null | undefined, field: TaskField, timeZone: string): number | null {
  if (raw === undefined || raw === null) return null;
  const t = raw.trim();
  if (t === '') return null;
  const parsed = parseSoDate(t, timeZone);
  if (parsed === undefined) throw new FieldProblem(field, `expected an xs:dateTime, got "${short(t)}"`);
  return parsed;
}

/** Reads one task's fields; `timeZone` is the zone of dates without an offset. */
export function readTask(raw: RawTask, timeZone: string): TaskReading {
  const v = raw.values;
  let id: number | null = null;
  let associateId: number | null = null;
  try {
    if (raw.overlong) throw new FieldProblem(raw.overlong, `longer than ${TASK_LIMITS.fieldText} characters`);
    id = intOrNull(v[S.Id], 'Id');
    if (id === null) throw new FieldProblem('Id', 'missing');
    associateId = intOrNull(v[S.AssociateId], 'AssociateId');
    // Texts are kept as copies of their own: as the parser's substrings they would keep the whole answer in
    // memory (every 64 KiB piece of it that a task of this poll was read from) until the poll is over.
    const task: BatchTaskInfo = {
      id,
      name: detachString(v[S.Name] ?? ''),
      associateId: associateId ?? 0,
      detailsTable: intOrNull(v[S.DetailsTable], 'DetailsTable'),
      detailsRecord: intOrNull(v[S.DetailsRecord], 'DetailsRecord'),
      isSystemTask: boolOrNull(v[S.IsSystemTask], 'IsSystemTask'),
      isInternalTask: boolOrNull(v[S.IsInternalTask], 'IsInternalTask'),
      parameterObject: parameters(raw),
      lastStarted: dateOrNull(v[S.LastStarted], 'LastStarted', timeZone),
      created: dateOrNull(v[S.Created], 'Created', timeZone),
      startCount: intOrNull(v[S.StartCount], 'StartCount'),
      databaseSerialNumber: detachOrNull(v[S.DatabaseSerialNumber]),
      context: detachOrNull(v[S.Context]),
      result: detachOrNull(v[S.Result]),
      state: detachString(v[S.State]?.trim() || 'Unknown'),
      description: detachOrNull(v[S.Description]),
      response: detachOrNull(v[S.Response]),
      request: detachOrNull(v[S.Request]),
      progressDescription: detachOrNull(v[S.ProgressDescription]),
      progressPercent: progressOrNull(v[S.ProgressPercent]),
    };
    return { ok: true, task };
  } catch (error) {
    if (!(error instanceof FieldProblem)) throw error;
    // The Id and AssociateId as far as they are readable, even when a later field is the problem.
    if (error.field !== 'Id') id ??= safeInt(v[S.Id]);
    if (error.field !== 'AssociateId') associateId ??= safeInt(v[S.AssociateId]);
    const rawId = typeof v[S.Id] === 'string' ? (v[S.Id] as string).trim() : null;
    return { ok: false, problem: { field: error.field, message: error.message, id, rawId, associateId } };
  }
}

function safeInt(raw: string | null | undefined): number | null {
  try {
    return intOrNull(raw, 'Id');
  } catch {
    return null;
  }
}

function parameters(raw: RawTask): Record<string, string> {
  if (raw.tooManyParameters) throw new FieldProblem('ParameterObject', `more than ${TASK_LIMITS.parameters} entries`);
  const out: Record<string, string> = {};
  if (raw.parameters) {
    for (const [key, value] of raw.parameters) {
      if (key === null) continue;
      // "__proto__" must become an ordinary entry, not the object's prototype.
      const text = detachString(value ?? '');
      if (key === '__proto__') Object.defineProperty(out, key, { value: text, enumerable: true, writable: true, configurable: true });
      else out[detachString(key)] = text;
    }
  }
  return out;
}
