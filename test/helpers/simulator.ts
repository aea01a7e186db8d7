import { after, before } from 'node:test';
import type { SuperOfficeConfig } from '../../src/config/types.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.ts';
import { withOverrides, type Overrides } from './overrides.ts';

export type { Simulator, SimulatorOptions };

/**
 * Starts a simulator before the tests of the current file/describe and closes it after.
 * Defaults to the 'empty' scenario so tests drive tasks with upsertTask/removeTask.
 */
export function withSimulator(opts: SimulatorOptions = {}): { readonly sim: Simulator; readonly url: string } {
  let sim: Simulator | undefined;
  before(async () => {
    sim = await startSimulator({ scenario: 'empty', ...opts });
  });
  after(async () => {
    await sim?.close();
  });
  return {
    get sim() {
      if (!sim) throw new Error('simulator not started yet (use it inside a test or hook)');
      return sim;
    },
    get url() {
      return this.sim.url;
    },
  };
}

/** A simulator for the duration of `fn` only: fresh stats and tickets for one test. */
export async function usingSimulator<T>(opts: SimulatorOptions, fn: (sim: Simulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator({ scenario: 'empty', ...opts });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/** Client config for a simulator: users demo/demo, short timeout, UTC. */
export function simulatorConfig(url: string, overrides: Overrides<SuperOfficeConfig> = {}): SuperOfficeConfig {
  const defaults: SuperOfficeConfig = {
    url,
    username: 'demo',
    password: 'demo',
    timeout: 3000,
    associatesPerRequest: 100,
    maxConcurrentRequests: 2,
    timeZone: 'UTC',
  };
  return withOverrides(defaults, overrides);
}
