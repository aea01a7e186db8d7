/** Text shown on one line (mail headers and subjects, CLI tables, `check`, errors quoting SuperOffice): the one control-character rule. */

/** One line of text: control characters (CR, LF, TAB, C1, line separators) become single spaces. */
export function oneLine(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}
