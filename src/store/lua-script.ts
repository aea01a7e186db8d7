/** A Lua script sent by its SHA1 (EVALSHA), and in full only when Redis does not know it yet. */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/connections.ts';

export type ScriptArg = string | number;

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; a Redis that restarted or flushed its script cache gets the source once. */
  async run(redis: RedisClient, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      return await redis.call('EVALSHA', commandArgs(this.sha, keys, args));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.call('EVAL', commandArgs(this.source, keys, args));
    }
  }
}

/** One array, built without spreading: a first commit of 100,000 tasks has 200,000 arguments, more than a call takes. */
function commandArgs(script: string, keys: readonly string[], args: readonly ScriptArg[]): ScriptArg[] {
  const all: ScriptArg[] = [script, keys.length];
  for (const key of keys) all.push(key);
  for (const arg of args) all.push(arg);
  return all;
}
