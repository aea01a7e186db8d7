/**
 * Compact strings for task records kept in memory across polls:
 * - equal short strings (names, states, progress texts, parameters) are shared, since at 100,000 tasks they
 *   repeat thousands of times;
 * - every kept string is a copy of its own, never a slice of something bigger: a string cut out of a
 *   SOAP response by the XML parser keeps the whole response (megabytes) alive for as long as the task
 *   record lives.
 * Bounded: when full the pool starts afresh (strings already shared stay shared), so vanished values never pile up.
 */
import { detachString } from '../runtime/detach-string.ts';

export { detachString };

const DEFAULT_MAX_ENTRIES = 50_000;
/** Longer strings are nearly always unique (descriptions, responses): they are copied, not pooled. */
const MAX_POOLED_LENGTH = 80;

export class StringPool {
  private strings = new Map<string, string>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  string(value: string): string {
    if (value.length > MAX_POOLED_LENGTH) return detachString(value);
    const pooled = this.strings.get(value);
    if (pooled !== undefined) return pooled;
    if (this.strings.size >= this.maxEntries) this.strings = new Map();
    const copy = detachString(value);
    this.strings.set(copy, copy);
    return copy;
  }

  /** A parameter object with pooled keys and values. */
  params(value: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, text] of Object.entries(value)) out[this.string(key)] = this.string(text);
    return out;
  }
}
