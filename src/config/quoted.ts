/**
 * Values quoted in config error messages. A message marks each value it quotes with quoted(); the marks are
 * turned into "value", or into "(value from ${NAME})" when the value came from the environment, in one
 * place (showValues), so a secret interpolated into the wrong key is never echoed by a config error.
 */

const OPEN = '\u0002';
const CLOSE = '\u0003';
const MARKED = /\u0002([^\u0002\u0003]*)\u0003/g;
/** A quoted value is cut to this many characters: a config error quotes a value, not a file. */
const MAX_SHOWN = 80;

/** `value` marked as quoted (control characters shown as ?, long values cut). */
export function quoted(value: string): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  const cut = clean.length > MAX_SHOWN ? `${clean.slice(0, MAX_SHOWN)}…` : clean;
  return `${OPEN}${cut}${CLOSE}`;
}

/** The message with every quoted value shown as "value" (for messages that leave the config loader). */
export function plainQuoted(message: string): string {
  return message.replace(MARKED, (_, value: string) => `"${value}"`);
}

/**
 * An error whose message quotes values: `message` shows them plainly (for use at run time), `marked`
 * keeps the marks so the config loader can hide values that came from the environment.
 */
export class QuotingError extends Error {
  readonly marked: string;

  constructor(marked: string) {
    super(plainQuoted(marked));
    this.marked = marked;
  }
}

/** A value taken from the environment by ${NAME} interpolation, at the key path where it was inserted. */
export interface Substitution {
  path: string;
  name: string;
  value: string;
}

const related = (a: string, b: string) => a === b || a === '' || b === '' || isUnder(a, b) || isUnder(b, a);
const isUnder = (path: string, parent: string) => path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);

function fromEnv(names: string[]): string {
  return `(value from ${[...new Set(names)].map((name) => `\${${name}}`).join(', ')})`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Shorter environment values are only hidden where they are quoted, not searched for in the rest of a message. */
const MIN_SEARCHED_LENGTH = 4;

/**
 * The one rule for values in config errors: a value written in the file may be quoted; a value that came
 * from the environment never is, nor any part of it. A quoted value is hidden when the issue is about a key
 * (or a key inside or around it) that was interpolated, or when it overlaps any interpolated value; and any
 * interpolated value found elsewhere in the message is replaced too (a library's message may repeat it).
 */
export function showValues(path: string, message: string, substitutions: readonly Substitution[]): string {
  const usable = substitutions.filter((it) => it.value.trim() !== '');
  const atThisKey = usable.filter((it) => related(it.path, path)).map((it) => it.name);
  const shown = message.replace(MARKED, (_, value: string) => {
    const text = value.replace(/…$/, '').trim().toLowerCase();
    const overlapping = usable
      .filter((it) => {
        const secret = it.value.trim().toLowerCase();
        return text !== '' && (secret.includes(text) || text.includes(secret));
      })
      .map((it) => it.name);
    const names = [...atThisKey, ...overlapping];
    return names.length > 0 ? fromEnv(names) : `"${value}"`;
  });
  let out = shown;
  for (const it of usable) {
    for (const form of new Set([it.value, it.value.trim()])) {
      if (form.length < MIN_SEARCHED_LENGTH) continue;
      out = out.replace(new RegExp(escapeRegExp(form), 'gi'), fromEnv([it.name]));
    }
  }
  return out;
}
