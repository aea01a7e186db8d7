import type { Rules } from '../src/core/model.ts';
import type { BatchTaskInfo, TaskState } from '../src/core/task.ts';
import { mulberry32 as prng } from '../test/helpers/prng.ts';
import { HOUR, rules } from '../test/helpers/tasks.ts';

/** The rules of the product contract's example config, with per-name overrides to exercise the glob matching. */
export const benchRules: Rules = rules({
  tasks: [
    { name: 'TravelGateway*', ignore: true },
    { name: 'Mailing*', ignore: false, stallAfter: 2 * HOUR },
  ],
});

const NAMES = ['MailingSend', 'ImportContacts', 'DocumentMerge', 'Reindex', 'ExportSelection', 'QuoteSync', 'TravelGateway', 'MassUpdate'];

/** Initial share of each state: mostly finished tasks, about a quarter running, a few queued. */
const STATE_MIX: readonly (readonly [TaskState, number])[] = [
  ['New', 0.05],
  ['Aquired', 0.02],
  ['Started', 0.23],
  ['Succeeded', 0.55],
  ['Failed', 0.1],
  ['SucceededManualCleanup', 0.05],
];

export interface FleetOptions {
  tasks: number;
  /** Tasks are spread evenly over associates 1..associates. */
  associates: number;
  seed?: number;
  now: number;
}

export interface FleetStep {
  /** New objects for tasks that changed or appeared (never mutated in place: snapshots keep references). */
  changed: BatchTaskInfo[];
  removed: number[];
}

/**
 * A synthetic SuperOffice batch task table that moves between polls like a busy installation:
 * running tasks advance (some are frozen and will stall), queued ones start, a few fail, finished
 * ones are deleted and replaced by new queued tasks, so the number of tasks stays constant.
 */
export class Fleet {
  private readonly random: () => number;
  private readonly byId = new Map<number, BatchTaskInfo>();
  /** Running tasks that never progress (they become stalled alerts). */
  private readonly frozen = new Set<number>();
  private nextId = 100_000;

  constructor(opts: FleetOptions) {
    this.random = prng(opts.seed ?? 42);
    for (let i = 0; i < opts.tasks; i++) {
      const task = this.newTask(1 + (i % opts.associates), opts.now, this.pickState());
      this.byId.set(task.id, task);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Makes one running (not frozen) task fail, so that every step of a benchmark has an alert to mail.
   * Returns the failed task, or null when none is running.
   */
  failOne(now: number): BatchTaskInfo | null {
    for (const task of this.byId.values()) {
      if (task.state !== 'Started' || this.frozen.has(task.id)) continue;
      const failed = { ...task, state: 'Failed', response: `SoDatabaseException: forced at ${now}` };
      this.byId.set(task.id, failed);
      return failed;
    }
    return null;
  }

  /** What GetBatchTaskInfosByAssociates would return now (a fresh array of the current objects). */
  current(): BatchTaskInfo[] {
    return [...this.byId.values()];
  }

  /** Advances the table by one poll interval ending at `now`. */
  step(now: number): FleetStep {
    const changed: BatchTaskInfo[] = [];
    const removed: number[] = [];
    for (const task of [...this.byId.values()]) {
      const next = this.advance(task, now);
      if (next === null) {
        this.byId.delete(task.id);
        this.frozen.delete(task.id);
        removed.push(task.id);
        const replacement = this.newTask(task.associateId, now, 'New');
        this.byId.set(replacement.id, replacement);
        changed.push(replacement);
      } else if (next !== task) {
        this.byId.set(next.id, next);
        changed.push(next);
      }
    }
    return { changed, removed };
  }

  /** The task's next version, the same object when unchanged, null when SuperOffice deleted it. */
  private advance(task: BatchTaskInfo, now: number): BatchTaskInfo | null {
    const r = this.random();
    switch (task.state) {
      case 'New':
        return r < 0.05
          ? { ...task, state: 'Started', progressPercent: 0, startCount: (task.startCount ?? 0) + 1, lastStarted: now }
          : task;
      case 'Aquired':
        return r < 0.3 ? { ...task, state: 'Started', progressPercent: 0 } : task;
      case 'Started': {
        if (this.frozen.has(task.id)) return task;
        if (r < 0.005) return { ...task, state: 'Failed', response: 'SoDatabaseException: timeout expired while writing rows' };
        if (r > 0.2) return task;
        const progress = Math.min(100, (task.progressPercent ?? 0) + 1 + Math.floor(this.random() * 10));
        if (progress >= 100) return { ...task, state: 'Succeeded', progressPercent: 100, progressDescription: 'Done' };
        return { ...task, progressPercent: progress, progressDescription: `Processed ${progress * 37} of 3700 rows` };
      }
      default:
        return r < 0.01 ? null : task;
    }
  }

  private pickState(): TaskState {
    let r = this.random();
    for (const [state, share] of STATE_MIX) {
      if (r < share) return state;
      r -= share;
    }
    return 'Succeeded';
  }

  private newTask(associateId: number, now: number, state: TaskState): BatchTaskInfo {
    const id = this.nextId++;
    const running = state === 'Started' || state === 'Aquired';
    if (running && this.random() < 0.08) this.frozen.add(id);
    const started = state === 'New' ? null : now - Math.floor(this.random() * 2 * HOUR);
    return {
      id,
      name: NAMES[id % NAMES.length] ?? 'Task',
      associateId,
      detailsTable: 9,
      detailsRecord: id * 3,
      isSystemTask: false,
      isInternalTask: false,
      parameterObject: { selectionId: String(id % 500), format: 'csv' },
      lastStarted: started,
      created: started ?? now,
      startCount: state === 'New' ? 0 : 1,
      databaseSerialNumber: null,
      context: null,
      result: state === 'Succeeded' ? 'OK' : null,
      state,
      description: `Batch job ${id} for associate ${associateId}`,
      response: state === 'Failed' ? 'SoDatabaseException: deadlock victim' : null,
      request: null,
      progressDescription: running ? 'Processing rows' : null,
      progressPercent: state === 'New' ? 0 : running ? Math.floor(this.random() * 90) : 100,
    };
  }
}
