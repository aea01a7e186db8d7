/** ${NAME} and ${NAME:-fallback} environment references in the config file, resolved. */
import { formatPath, issue, type PathIssue } from './issues.ts';
import type { Substitution } from './quoted.ts';

export interface Interpolated {
  value: unknown;
  issues: PathIssue[];
  /** Every value taken from the environment, where it went: config errors never quote these. */
  substitutions: Substitution[];
}

// $${ is a literal "${"; ${NAME} and ${NAME:-fallback} are references.
const TOKEN = /\$\$\{|\$\{([^}]*)(\}?)/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces ${NAME} references inside string scalars of an already-parsed YAML document, so a value
 * coming from the environment is never YAML-parsed. A mapping entry with an empty value (`key:`) is
 * treated as absent. A string that cannot be interpolated is reported and kept as written, so the
 * other checks still see that a value was given.
 */
export function interpolateEnv(document: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const issues: PathIssue[] = [];
  const substitutions: Substitution[] = [];
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') return interpolateString(value, env, path, issues, substitutions);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (item === null) continue;
        out[key] = walk(item, [...path, key]);
      }
      return out;
    }
    return value;
  };
  return { value: walk(document, []), issues, substitutions };
}

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  issues: PathIssue[],
  substitutions: Substitution[],
): string {
  if (!text.includes('${')) return text;
  let failed = false;
  const result = text.replace(TOKEN, (token: string, body: string | undefined, closed: string | undefined) => {
    if (token === '$${') return '${';
    if (!closed) {
      failed = true;
      issues.push(issue(path, 'unterminated ${ (write $${ for a literal "${")'));
      return '';
    }
    const reference = REFERENCE.exec(body ?? '');
    if (!reference) {
      failed = true;
      issues.push(issue(path, `"\${${body ?? ''}}" is not a variable reference; write \${NAME} or \${NAME:-default}`));
      return '';
    }
    const [, name = '', fallback] = reference;
    const found = env[name];
    if (fallback !== undefined && (found === undefined || found === '')) return fallback;
    if (found === undefined) {
      failed = true;
      issues.push(issue(path, `environment variable ${name} is not set (use \${${name}:-default} for a fallback)`));
      return '';
    }
    substitutions.push({ path: formatPath(path), name, value: found });
    return found;
  });
  return failed ? text : result;
}
