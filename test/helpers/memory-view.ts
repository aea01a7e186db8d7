import type { Snapshot } from '../../src/core/model.ts';
import type { SnapshotView } from '../../src/metrics/snapshot-view.ts';

/** A SnapshotView tests fill by hand: what a daemon's own commits and background refresh would provide. */
export class MemoryView implements SnapshotView {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly listeners = new Set<(schedule: string, snapshot: Snapshot) => void>();
  /** Set false to play a Redis that cannot be read. */
  isCurrent = true;

  constructor(initial: readonly Snapshot[] = []) {
    for (const snapshot of initial) this.snapshots.set(snapshot.schedule, snapshot);
  }

  set(...snapshots: Snapshot[]): void {
    for (const snapshot of snapshots) {
      this.snapshots.set(snapshot.schedule, snapshot);
      for (const listener of this.listeners) listener(snapshot.schedule, snapshot);
    }
  }

  get(schedule: string): Snapshot | undefined {
    return this.snapshots.get(schedule);
  }

  subscribe(listener: (schedule: string, snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  current(): boolean {
    return this.isCurrent;
  }
}
