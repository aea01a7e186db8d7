/**
 * Globs on task names (rules.tasks[].name), matched in time proportional to name length x glob length.
 * Task names are SuperOffice text of any length; a regex-based glob (picomatch) backtracks, so a long
 * hostile name against a glob with a few stars could freeze the daemon for minutes.
 *
 * Syntax: `*` any text (also "/"), `?` one character, `[abc]` `[a-z]` `[!a-z]` `[^a-z]` one of (or none of),
 * `{a,b}` alternatives (nested too), `\x` the character x, a leading `!` negates the whole glob.
 * Matching is case-sensitive and covers the whole name. Extglobs such as `*(a|b)`, POSIX classes
 * such as `[[:alpha:]]` and brace ranges such as `{1..3}` are not supported (compileGlob says so).
 */

export class GlobError extends Error {
  override name = 'GlobError';
}

type Token =
  | { kind: 'char'; char: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; singles: Set<string>; ranges: [string, string][] };

/** Brace alternatives are expanded; more than this many is a mistake, not a rule. */
export const MAX_GLOB_ALTERNATIVES = 256;
const EXTGLOB = /(^|[^\\])[?*+@!]\(/;

/** A matcher for `glob`; throws GlobError (a message for the operator) when the glob cannot be used. */
export function compileGlob(glob: string): (name: string) => boolean {
  if (glob === '') throw new GlobError('must not be empty');
  let body = glob;
  let negated = false;
  while (body.startsWith('!') && !body.startsWith('!(')) {
    negated = !negated;
    body = body.slice(1);
  }
  if (EXTGLOB.test(body)) throw new GlobError('extglob patterns such as *(a|b) or +(x) are not supported; use * ? [...] and {a,b}');
  if (body.includes('[[:')) throw new GlobError('POSIX classes such as [[:alpha:]] are not supported; write the range, e.g. [a-zA-Z]');
  const patterns = expandBraces(body).map(tokenize);
  return (name) => {
    const chars = /[\uD800-\uDFFF]/.test(name) ? Array.from(name) : name;
    return patterns.some((tokens) => matches(tokens, chars)) !== negated;
  };
}

/** Every alternative of the glob's {a,b} groups, outermost first; a group without a top-level comma is literal. */
function expandBraces(glob: string): string[] {
  const group = firstGroup(glob);
  if (!group) return [glob];
  const { start, end, parts } = group;
  const out: string[] = [];
  for (const part of parts) {
    for (const expanded of expandBraces(glob.slice(0, start) + part + glob.slice(end + 1))) {
      out.push(expanded);
      if (out.length > MAX_GLOB_ALTERNATIVES)
        throw new GlobError(`expands to more than ${MAX_GLOB_ALTERNATIVES} alternatives; split it into several rules`);
    }
  }
  return out;
}

/** The first {...} group with a top-level comma: where it is and its alternatives (escapes kept). */
function firstGroup(glob: string): { start: number; end: number; parts: string[] } | null {
  for (let start = 0; start < glob.length; start++) {
    if (glob[start] === '\\') {
      start++;
      continue;
    }
    if (glob[start] !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    for (let i = start; i < glob.length; i++) {
      const char = glob[i];
      if (char === '\\') {
        i++;
        continue;
      }
      if (char === '{') depth++;
      else if (char === ',' && depth === 1) commas.push(i);
      else if (char === '}' && --depth === 0) {
        if (commas.length === 0) {
          if (/^\{[^{}]*\.\.[^{}]*\}$/.test(glob.slice(start, i + 1))) {
            throw new GlobError('brace ranges such as {1..3} are not supported; list the values, e.g. {1,2,3}');
          }
          break;
        }
        const bounds = [start, ...commas, i];
        return { start, end: i, parts: bounds.slice(1).map((bound, k) => glob.slice(bounds[k]! + 1, bound)) };
      }
    }
  }
  return null;
}

function tokenize(glob: string): Token[] {
  const tokens: Token[] = [];
  const chars = Array.from(glob);
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '\\' && i + 1 < chars.length) tokens.push({ kind: 'char', char: chars[++i]! });
    else if (char === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (char === '?') tokens.push({ kind: 'any' });
    else if (char === '[') {
      const parsed = readClass(chars, i);
      if (parsed) {
        tokens.push(parsed.token);
        i = parsed.end;
      } else tokens.push({ kind: 'char', char });
    } else tokens.push({ kind: 'char', char });
  }
  return tokens;
}

/** A [...] class starting at `open`, or null when it is not closed (then "[" is an ordinary character). */
function readClass(chars: string[], open: number): { token: Token; end: number } | null {
  let i = open + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const singles = new Set<string>();
  const ranges: [string, string][] = [];
  for (let first = true; i < chars.length; first = false, i++) {
    let char = chars[i]!;
    if (char === ']' && !first) return { token: { kind: 'class', negated, singles, ranges }, end: i };
    if (char === '\\' && i + 1 < chars.length) char = chars[++i]!;
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let to = chars[i + 2]!;
      i += 2;
      if (to === '\\' && i + 1 < chars.length) to = chars[++i]!;
      ranges.push([char, to]);
    } else singles.add(char);
  }
  return null;
}

function matchesOne(token: Exclude<Token, { kind: 'star' }>, char: string): boolean {
  if (token.kind === 'any') return true;
  if (token.kind === 'char') return token.char === char;
  const inside = token.singles.has(char) || token.ranges.some(([from, to]) => from <= char && char <= to);
  return inside !== token.negated;
}

/**
 * The whole of `name` against the tokens. On a mismatch only the most recent star takes one more
 * character (earlier stars never need to: the text between stars is matched leftmost), so the work is
 * at most name length x token count, whatever the name.
 */
function matches(tokens: readonly Token[], name: string | string[]): boolean {
  let t = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      star = t++;
      resume = n;
    } else if (token !== undefined && matchesOne(token, name[n]!)) {
      t++;
      n++;
    } else if (star >= 0) {
      t = star + 1;
      n = ++resume;
    } else return false;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}
