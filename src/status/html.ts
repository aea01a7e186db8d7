/**
 * HTML built from templates whose every interpolated value is escaped (escape-html), unless it is Html the
 * renderer itself built: text from SuperOffice, the config or a request can never become markup.
 */
import escapeHtml from 'escape-html';

/** Markup made by `html` (or `joinHtml`); the only thing interpolated without escaping. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function piece(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(piece).join('');
  return escapeHtml(String(value));
}

/** html`<td>${name}</td>`: `name` is escaped (also inside attribute values, which must be double-quoted). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}
