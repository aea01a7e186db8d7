import type { Redis } from 'ioredis';

/** Command counters as the Redis server reports them (INFO stats + commandstats). */
export interface CommandCounters {
  totalProcessed: number;
  /** calls per command name, e.g. { hmget: 12, eval: 6 } (commands run inside EVAL and MULTI included). */
  byCommand: Map<string, number>;
}

/** Commands of our own measuring connection, left out of every delta. */
const OWN_COMMANDS = new Set(['info']);

export async function readCounters(observer: Redis): Promise<CommandCounters> {
  const info = await observer.info('stats', 'commandstats');
  let totalProcessed = NaN;
  const byCommand = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const total = /^total_commands_processed:(\d+)/.exec(line);
    if (total) totalProcessed = Number(total[1]);
    const stat = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (stat) byCommand.set(stat[1] ?? '', Number(stat[2]));
  }
  return { totalProcessed, byCommand };
}

export interface CommandDelta {
  /** total_commands_processed delta minus our own INFO calls. */
  total: number;
  byCommand: Map<string, number>;
}

/**
 * Commands the server processed between two readings. The first INFO is itself counted in the
 * second reading (the counter is bumped after a command runs), so one is subtracted.
 */
export function delta(before: CommandCounters, after: CommandCounters): CommandDelta {
  const byCommand = new Map<string, number>();
  for (const [name, calls] of after.byCommand) {
    if (OWN_COMMANDS.has(name)) continue;
    const d = calls - (before.byCommand.get(name) ?? 0);
    if (d > 0) byCommand.set(name, d);
  }
  return { total: after.totalProcessed - before.totalProcessed - 1, byCommand };
}

/** `multi 1, hmget 1, ...` in a stable order. */
export function describeCommands(byCommand: ReadonlyMap<string, number>, polls: number): string {
  return [...byCommand.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, calls]) => `${name} ${+(calls / polls).toFixed(2)}`)
    .join(', ');
}
