import type { BatchTaskInfo, PollOutcome, Rules } from '../../src/core/model.ts';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** A fixed, readable epoch for tests: 2025-01-06T10:00:00Z. */
export const T0 = Date.UTC(2025, 0, 6, 10, 0, 0);

export type TaskInput = Partial<BatchTaskInfo> & Pick<BatchTaskInfo, 'id'>;

/** A BatchTaskInfo with plausible defaults: `task({ id: 1, state: 'Started', progressPercent: 40 })`. */
export function task(input: TaskInput): BatchTaskInfo {
  return {
    name: `Task ${input.id}`,
    associateId: 12,
    detailsTable: null,
    detailsRecord: null,
    isSystemTask: false,
    isInternalTask: false,
    parameterObject: {},
    lastStarted: null,
    created: null,
    startCount: 0,
    databaseSerialNumber: null,
    context: null,
    result: null,
    state: 'New',
    description: null,
    response: null,
    request: null,
    progressDescription: null,
    progressPercent: null,
    ...input,
  };
}

/** The rules of the product contract's example config, in milliseconds, with overrides. */
export function rules(overrides: Partial<Rules> = {}): Rules {
  return {
    stallAfter: 15 * MINUTE,
    queuedTimeout: 10 * MINUTE,
    firstSeenWindow: HOUR,
    unreachableAfter: 3,
    repeatInterval: 4 * HOUR,
    sendResolved: true,
    tasks: [],
    ...overrides,
  };
}

export function ok(...tasks: BatchTaskInfo[]): PollOutcome {
  return { ok: true, tasks };
}

export function unreachable(message = 'connect ECONNREFUSED 127.0.0.1:443'): PollOutcome {
  return { ok: false, error: { kind: 'transport', message } };
}
