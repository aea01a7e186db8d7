/** Per-task rule overrides (rules.tasks[] globs) and the effective rules of a task. */
import { compileGlob } from './glob.ts';
import type { Rules } from './model.ts';

export interface EffectiveTaskRules {
  ignore: boolean;
  /** Milliseconds; 0 disables stall detection for the task. */
  stallAfter: number;
  /** Milliseconds; 0 disables stuck detection for the task. */
  queuedTimeout: number;
}

const compiled = new Map<string, (name: string) => boolean>();

/**
 * The matcher of a rules.tasks[] glob (syntax in glob.ts: `*` also matches "/", matching is case-sensitive
 * and linear in the name's length). Throws GlobError for a glob it cannot use; config validation reports it.
 */
export function compileTaskGlob(glob: string): (name: string) => boolean {
  let matcher = compiled.get(glob);
  if (!matcher) {
    matcher = compileGlob(glob);
    compiled.set(glob, matcher);
  }
  return matcher;
}

export function taskNameMatches(glob: string, name: string): boolean {
  try {
    return compileTaskGlob(glob)(name);
  } catch {
    // An uncompilable glob matches nothing rather than stopping every poll of the schedule.
    return false;
  }
}

/** The first `rules.tasks` entry whose glob matches the whole name wins; unset fields fall back to the global rules. */
export function effectiveRules(taskName: string, rules: Rules): EffectiveTaskRules {
  const override = rules.tasks.find((entry) => taskNameMatches(entry.name, taskName));
  return {
    ignore: override?.ignore ?? false,
    stallAfter: override?.stallAfter ?? rules.stallAfter,
    queuedTimeout: override?.queuedTimeout ?? rules.queuedTimeout,
  };
}
