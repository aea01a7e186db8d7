export interface ConfigIssue {
  /** Key path as an operator writes it: `schedules[1].every`; '' for the whole file. */
  path: string;
  message: string;
  /** 1-based line in the file of the key (or of its closest enclosing key when it is missing). */
  line?: number;
}

/** An issue while checking, before it is placed in the file. */
export interface PathIssue {
  at: (string | number)[];
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

export function issue(at: (string | number)[], message: string): PathIssue {
  return { at, message };
}

/** The known key closest to `unknown`, if it is plausibly a typo of it. */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const target = squash(unknown);
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = target === squash(key) ? 0 : editDistance(target, squash(key));
    if (!best || distance < best.distance) best = { key, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(1, Math.min(3, Math.floor(target.length / 3)));
  return best.distance <= allowed ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
