/**
 * V8 keeps the subject of the last successful RegExp match alive (for RegExp.lastMatch, RegExp.$1, ...).
 * After reading a SOAP answer, that subject is often a slice of the whole answer, which then stays in
 * memory (90 MB at 100,000 tasks) until the next match elsewhere. A tiny match drops the reference.
 */
export function forgetLastRegExpSubject(): void {
  /^/.exec('');
}
