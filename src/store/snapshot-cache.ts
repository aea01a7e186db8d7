/**
 * The snapshots this process knows, per schedule, shared by the poll path and the metrics: the one
 * in-memory copy of each snapshot. An entry is only as good as its (version, commit id): the store
 * compares both with Redis before reusing it, so another replica's commit is always noticed.
 */
import type { Snapshot } from '../core/model.ts';

export interface KnownSnapshot {
  snapshot: Snapshot;
  /** Commit id stored with `snapshot.version`; '' when the stored snapshot has none (never written, older format). */
  commit: string;
  /** Redis holds exactly `snapshot` in the current layout: the next commit may write only what changed. */
  exact: boolean;
}

export type SnapshotListener = (schedule: string, snapshot: Snapshot) => void;

export class SnapshotCache {
  readonly #entries = new Map<string, KnownSnapshot>();
  readonly #listeners = new Set<SnapshotListener>();

  get(schedule: string): KnownSnapshot | undefined {
    return this.#entries.get(schedule);
  }

  /**
   * Stores what a read found, unless the entry changed while the read was under way (`seen` is the entry
   * the read started from): a commit or another read that finished first is at least as recent.
   */
  afterRead(schedule: string, seen: KnownSnapshot | undefined, found: KnownSnapshot): void {
    if (this.#entries.get(schedule) !== seen) return;
    this.#set(schedule, found);
  }

  /** Stores what this process just committed, unless a read already brought a later version. */
  afterCommit(schedule: string, written: KnownSnapshot): void {
    const current = this.#entries.get(schedule);
    if (current && current.snapshot.version > written.snapshot.version) return;
    this.#set(schedule, written);
  }

  /** Drops an entry that no longer matches Redis in a way the version cannot show (Redis restored from an older copy). */
  forget(schedule: string): void {
    this.#entries.delete(schedule);
  }

  /** Called whenever a schedule's snapshot is replaced by a different one. Returns the unsubscribe function. */
  subscribe(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(schedule: string, entry: KnownSnapshot): void {
    const previous = this.#entries.get(schedule);
    this.#entries.set(schedule, entry);
    if (previous?.snapshot === entry.snapshot) return;
    for (const listener of this.#listeners) listener(schedule, entry.snapshot);
  }
}
