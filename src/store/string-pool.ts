/**
 * Shares equal strings between task records kept in memory: at 100,000 tasks, names, states, progress
 * texts and parameters repeat thousands of times, and each JSON.parse would otherwise make its own copy.
 * Bounded: when full it starts afresh (strings already shared stay shared), so vanished values never pile up.
 */
const DEFAULT_MAX_ENTRIES = 50_000;
/** Longer strings are nearly always unique (descriptions, responses): pooling them would only cost. */
const MAX_POOLED_LENGTH = 80;

export class StringPool {
  private strings = new Map<string, string>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  string(value: string): string {
    if (value.length > MAX_POOLED_LENGTH) return value;
    const pooled = this.strings.get(value);
    if (pooled !== undefined) return pooled;
    if (this.strings.size >= this.maxEntries) this.strings = new Map();
    this.strings.set(value, value);
    return value;
  }

  /** A parameter object with pooled keys and values. */
  params(value: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, text] of Object.entries(value)) out[this.string(key)] = this.string(text);
    return out;
  }
}
