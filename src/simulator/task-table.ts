/** The simulated batch task table that the simulator's answers read. */
import type { BatchTaskInfo } from '../core/task.ts';

export type TaskPatch = Partial<BatchTaskInfo> & { id: number; associateId: number };

/** The simulated batch task table: what GetBatchTaskInfosByAssociates reads. */
export class TaskTable {
  private readonly tasks = new Map<number, BatchTaskInfo>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Creates the task (with sensible defaults) or changes the given fields of an existing one. */
  upsert(patch: TaskPatch, now: number = this.clock()): BatchTaskInfo {
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as TaskPatch;
    const existing = this.tasks.get(patch.id);
    const task: BatchTaskInfo = { ...(existing ?? newTask(patch.id, patch.associateId, now)), ...defined };
    task.parameterObject = { ...task.parameterObject };
    this.tasks.set(task.id, task);
    return structuredClone(task);
  }

  remove(id: number): void {
    this.tasks.delete(id);
  }

  get(id: number): BatchTaskInfo | undefined {
    const task = this.tasks.get(id);
    return task ? structuredClone(task) : undefined;
  }

  /** Copies, ordered by id. */
  list(associateIds?: ReadonlySet<number>): BatchTaskInfo[] {
    return [...this.tasks.values()]
      .filter((t) => !associateIds || associateIds.has(t.associateId))
      .sort((a, b) => a.id - b.id)
      .map((t) => structuredClone(t));
  }
}

function newTask(id: number, associateId: number, now: number): BatchTaskInfo {
  return {
    id,
    name: `Task${id}`,
    associateId,
    detailsTable: null,
    detailsRecord: null,
    isSystemTask: false,
    isInternalTask: false,
    parameterObject: {},
    lastStarted: null,
    created: now,
    startCount: 0,
    databaseSerialNumber: null,
    context: null,
    result: null,
    state: 'New',
    description: null,
    response: null,
    request: null,
    progressDescription: null,
    progressPercent: 0,
  };
}
