/** The body reader of one Batch call: the answer streamed into tasks, then judged like any SOAP answer (response.ts). */
import type { BatchTaskInfo } from '../core/task.ts';
import { short } from './batch-task-info.ts';
import { type BatchAnswer, BatchResponseReader, type ListedProblem } from './batch-response.ts';
import type { BodyReader, ResponseHead } from './http-transport.ts';
import { judgeEnvelope, unreadableAnswer, type Redact, type Refusal } from './response.ts';

/** The Batch.svc operations batchwatch calls (and the simulator answers). */
export const BATCH_OPERATIONS = ['GetBatchTaskInfosByAssociates', 'GetBatchTaskInfosByState'] as const;
export type BatchOperation = (typeof BATCH_OPERATIONS)[number];

export type BatchCallResult = { ok: true; tasks: BatchTaskInfo[]; problems: ListedProblem[] } | { ok: false; refusal: Refusal };

/**
 * Makes the reader for one answer of `operation`, whose Body must hold `expected`. The first XML error (or
 * broken limit) ends the call at once, with the same errors as a fully read answer would give: a
 * TransportError for a non-200 status, else a MalformedResponseError. Faults and in-band errors are refusals.
 */
export function batchCallReader(operation: string, expected: string, timeZone: string, redact: Redact) {
  return (head: ResponseHead): BodyReader<BatchCallResult> => {
    const reader = new BatchResponseReader(expected, timeZone);
    const extent = () => `after ${reader.characters} chars`;
    return {
      write(chunk) {
        try {
          reader.write(chunk);
        } catch (error) {
          throw unreadableAnswer(error, head, operation, extent());
        }
      },
      end() {
        let answer: BatchAnswer;
        try {
          answer = reader.end();
        } catch (error) {
          throw unreadableAnswer(error, head, operation, extent());
        }
        const verdict = judgeEnvelope(answer.envelope, head.status, expected, operation, redact);
        if (!verdict.ok) return verdict;
        return { ok: true, tasks: answer.tasks, problems: answer.problems };
      },
    };
  };
}

/** `BatchTaskInfo #2 (Id 4711): LastStarted: expected an xs:dateTime, got "yesterday"`. */
export function describeProblem(problem: ListedProblem): string {
  const id = problem.rawId !== null ? ` (Id ${short(problem.rawId)})` : '';
  return `BatchTaskInfo #${problem.index}${id}: ${problem.field}: ${problem.message}`;
}
