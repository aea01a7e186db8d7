import picomatch from 'picomatch';
import type { Rules } from './model.ts';

export interface EffectiveTaskRules {
  ignore: boolean;
  /** Milliseconds; 0 disables stall detection for the task. */
  stallAfter: number;
  /** Milliseconds; 0 disables stuck detection for the task. */
  queuedTimeout: number;
}

/**
 * Task names are not paths: `*` also matches `/` (bash: true), a leading `.` is an ordinary
 * character (dot: true) and backslashes never act as separators, whatever the platform.
 * Matching is case-sensitive. `?` does not match `/` (a picomatch limitation).
 */
const GLOB_OPTIONS = { bash: true, dot: true, windows: false } as const;

const compiled = new Map<string, (name: string) => boolean>();

/** Throws for a glob picomatch cannot compile; config validation can call it to report the key. */
export function compileTaskGlob(glob: string): (name: string) => boolean {
  let matcher = compiled.get(glob);
  if (!matcher) {
    matcher = picomatch(glob, GLOB_OPTIONS);
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
