/**
 * Strings cut out of a bigger text (an XML parser's substrings of a SOAP answer) point into that text and keep
 * all of it alive: a copy of their own lets the bigger text go.
 */

/**
 * A copy of `value` that does not point into a larger string. (V8 represents a substring of 13 or more
 * characters as a slice of its parent; concatenating forces a flat new string, the slice then refers to that.)
 */
export function detachString(value: string): string {
  return value.length < 13 ? value : ` ${value}`.slice(1);
}

/** detachString for a value that may be absent. */
export function detachOrNull(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : detachString(value);
}
