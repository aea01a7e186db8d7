/** Remembers which unreadable tasks were already logged, so a task that stays unreadable is logged once, not every poll. */
import type { UnreadableTask } from '../core/model.ts';

export class UnreadableTaskLog {
  /** Per schedule, the task+field+problem keys of the last successful poll. */
  private readonly current = new Map<string, Set<string>>();

  /**
   * The entries of this (successful) poll that the previous successful poll of the schedule did not have.
   * A task that becomes readable and later breaks again is new again.
   */
  fresh(schedule: string, unreadable: readonly UnreadableTask[]): UnreadableTask[] {
    const before = this.current.get(schedule);
    const now = new Set<string>();
    const fresh: UnreadableTask[] = [];
    for (const task of unreadable) {
      const key = `${task.id ?? '?'}\u0000${task.field}\u0000${task.problem}`;
      if (now.has(key)) continue;
      now.add(key);
      if (!before?.has(key)) fresh.push(task);
    }
    if (now.size > 0) this.current.set(schedule, now);
    else this.current.delete(schedule);
    return fresh;
  }
}

/** The log of a process that wires no log of its own into its polls. */
export const processUnreadableTaskLog = new UnreadableTaskLog();
