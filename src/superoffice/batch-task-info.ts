import { z } from 'zod';
import type { BatchTaskInfo } from '../core/task.ts';
import { parseSoDate } from './dates.ts';
import { childElement, childElements, isNil, textOrNull, type XmlElement } from './xml.ts';

/** Element text as it came: absent (undefined), xsi:nil (null) or a string. */
const xmlText = z.string().nullish();

const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

const optionalInt = xmlText.transform((v, ctx) => {
  const t = v?.trim();
  if (!t) return null;
  const n = Number(t);
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(n)) {
    ctx.addIssue({ code: 'custom', message: `expected an integer, got "${short(t)}"` });
    return z.NEVER;
  }
  return n;
});

const requiredInt = optionalInt.transform((v, ctx) => {
  if (v === null) {
    ctx.addIssue({ code: 'custom', message: 'missing' });
    return z.NEVER;
  }
  return v;
});

const optionalBool = xmlText.transform((v, ctx) => {
  const t = v?.trim().toLowerCase();
  if (!t) return null;
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  ctx.addIssue({ code: 'custom', message: `expected a boolean, got "${short(t)}"` });
  return z.NEVER;
});

const optionalString = xmlText.transform((v) => v ?? null);

/** Lenient: SuperOffice sends 0..100; anything else is clamped, and non-numbers mean "no progress known". */
const progressPercent = xmlText.transform((v) => {
  const t = v?.trim();
  if (!t) return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return null;
  return Math.min(100, Math.max(0, n));
});

/** Unknown states from newer SuperOffice versions are kept as they came. */
const state = xmlText.transform((v) => v?.trim() || 'Unknown');

const keyValue = z.object({ Key: z.string().nullable(), Value: z.string().nullable() });

function schemaFor(timeZone: string) {
  const date = xmlText.transform((v, ctx) => {
    const t = v?.trim();
    if (!t) return null;
    const parsed = parseSoDate(t, timeZone);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected an xs:dateTime, got "${short(t)}"` });
      return z.NEVER;
    }
    return parsed;
  });
  return z
    .object({
      Id: requiredInt,
      Name: optionalString,
      AssociateId: optionalInt,
      DetailsTable: optionalInt,
      DetailsRecord: optionalInt,
      IsSystemTask: optionalBool,
      IsInternalTask: optionalBool,
      ParameterObject: z.array(keyValue).nullish(),
      LastStarted: date,
      Created: date,
      StartCount: optionalInt,
      DatabaseSerialNumber: optionalString,
      Context: optionalString,
      Result: optionalString,
      State: state,
      Description: optionalString,
      Response: optionalString,
      Request: optionalString,
      ProgressDescription: optionalString,
      ProgressPercent: progressPercent,
    })
    .transform(
      (r): BatchTaskInfo => ({
        id: r.Id,
        name: r.Name ?? '',
        associateId: r.AssociateId ?? 0,
        detailsTable: r.DetailsTable,
        detailsRecord: r.DetailsRecord,
        isSystemTask: r.IsSystemTask,
        isInternalTask: r.IsInternalTask,
        parameterObject: Object.fromEntries(
          (r.ParameterObject ?? []).flatMap((kv) => (kv.Key === null ? [] : [[kv.Key, kv.Value ?? '']])),
        ),
        lastStarted: r.LastStarted,
        created: r.Created,
        startCount: r.StartCount,
        databaseSerialNumber: r.DatabaseSerialNumber,
        context: r.Context,
        result: r.Result,
        state: r.State,
        description: r.Description,
        response: r.Response,
        request: r.Request,
        progressDescription: r.ProgressDescription,
        progressPercent: r.ProgressPercent,
      }),
    );
}

/** Flattens one BatchTaskInfo element into the shape the schema validates. */
function rawFields(task: XmlElement): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const child of task.children) {
    if (child.name in raw) continue;
    if (child.name === 'ParameterObject') {
      raw.ParameterObject = isNil(child)
        ? null
        : childElements(child, 'StringKeyValuePair').map((pair) => ({
            Key: textOrNull(childElement(pair, 'Key')),
            Value: textOrNull(childElement(pair, 'Value')),
          }));
    } else {
      raw[child.name] = textOrNull(child);
    }
  }
  return raw;
}

export class TaskFieldError extends Error {
  override name = 'TaskFieldError';
}

export type BatchTaskInfoParser = (response: XmlElement) => BatchTaskInfo[];

/**
 * Reads `...Response/Response/BatchTaskInfo*`. A missing, nil or empty Response is no tasks.
 * Throws TaskFieldError naming the task and field that does not validate.
 */
export function batchTaskInfoParser(timeZone: string): BatchTaskInfoParser {
  const schema = schemaFor(timeZone);
  return (operationResponse) => {
    const list = childElement(operationResponse, 'Response');
    if (!list || isNil(list)) return [];
    const tasks: BatchTaskInfo[] = [];
    childElements(list, 'BatchTaskInfo').forEach((element, index) => {
      if (isNil(element)) return;
      const raw = rawFields(element);
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.') || '(task)';
        const id = typeof raw.Id === 'string' ? ` (Id ${short(raw.Id.trim())})` : '';
        throw new TaskFieldError(`BatchTaskInfo #${index + 1}${id}: ${field}: ${issue?.message ?? 'invalid'}`);
      }
      tasks.push(parsed.data);
    });
    return tasks;
  };
}
