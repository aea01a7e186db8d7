/** Limits of the per-task series, shared by the config defaults and the metrics. */

/**
 * Tasks with per-task series at most (~1.5 KB of text and ~11 series each): room for every active task
 * of a 100,000-task tenant, while a scrape stays under ~40 MB and the process within its memory goal.
 */
export const DEFAULT_MAX_EXPORTED_TASKS = 25_000;
