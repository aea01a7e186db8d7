/** Bounded selection: the first `limit` items in an order, out of any number, without sorting them all (O(n log k) compares). */
export class TopK<T> {
  private readonly items: T[] = [];
  /** How many were offered, kept or not. */
  total = 0;

  constructor(
    private readonly limit: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  /** The item a new one must sort before to be kept; undefined while fewer than `limit` are kept (then any is kept). */
  threshold(): T | undefined {
    return this.limit <= 0 ? undefined : this.items.length === this.limit ? this.items[this.limit - 1] : undefined;
  }

  /** Counts an item the caller found not to sort before threshold() (so it is not kept), without building it. */
  pass(): void {
    this.total++;
  }

  /** Offers one item; it is kept while it is among the first `limit` seen so far. */
  offer(item: T): void {
    this.total++;
    const { items, limit, compare } = this;
    if (limit <= 0) return;
    if (items.length === limit && compare(item, items[limit - 1]!) >= 0) return;
    // Binary search for the first kept item that sorts after `item` (stable: equal items keep arrival order).
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(items[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, item);
    if (items.length > limit) items.pop();
  }

  /** The kept items in order, and how many were left out. */
  result(): { items: T[]; more: number } {
    return { items: [...this.items], more: this.total - this.items.length };
  }
}

/** Task ids as numbers ("10" after "9"), other subjects (schedule names) after them, by code unit; no locale lookups. */
export function compareSubjects(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  const xNumeric = a !== '' && Number.isFinite(x);
  const yNumeric = b !== '' && Number.isFinite(y);
  if (xNumeric && yNumeric) return x - y;
  if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
