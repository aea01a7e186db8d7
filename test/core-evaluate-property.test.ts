import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../src/core/evaluate.ts';
import { emptySnapshot, type AlertEvent, type BatchTaskInfo, type PollOutcome, type Snapshot } from '../src/core/model.ts';
import { RUNNING_STATES } from '../src/core/task.ts';
import { mulberry32 } from './helpers/prng.ts';
import { HOUR, MINUTE, T0, rules, task, unreachable } from './helpers/tasks.ts';

/**
 * Long seeded pseudo-random poll sequences (tasks starting, progressing, stalling, failing, restarting,
 * vanishing, odd states, duplicate rows, outages, the clock jumping back) checked against invariants.
 */

const RULES = rules({
  stallAfter: 15 * MINUTE,
  queuedTimeout: 10 * MINUTE,
  repeatInterval: HOUR,
  unreachableAfter: 2,
  firstSeenWindow: HOUR,
  tasks: [
    { name: 'TravelGateway*', ignore: true },
    { name: 'Mailing*', ignore: false, stallAfter: 45 * MINUTE },
  ],
});
const NAMES = ['Import contacts', 'TravelGateway sync', 'Mailing weekly', 'Export', 'Reindex'];

class World {
  private readonly tasks = new Map<number, BatchTaskInfo>();
  private nextId = 1;
  now = T0;
  constructor(private readonly random: () => number) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }

  tick(): void {
    this.now = this.chance(0.03)
      ? this.now - Math.floor(this.random() * 30 * MINUTE)
      : this.now + Math.floor((0.5 + this.random() * 8) * MINUTE);
    if (this.tasks.size < 8 && this.chance(0.3)) this.spawn();
    for (const [id, t] of this.tasks) {
      if (this.chance(0.01)) {
        this.tasks.delete(id); // SuperOffice deleted it; ids are never reused
        continue;
      }
      this.tasks.set(id, this.step(t));
    }
  }

  private spawn(): void {
    const id = this.nextId++;
    const bornFailed = this.chance(0.15);
    this.tasks.set(
      id,
      task({
        id,
        name: this.pick(NAMES),
        state: bornFailed ? 'Failed' : 'New',
        created: this.now - Math.floor(this.random() * 3 * HOUR),
        lastStarted: bornFailed ? this.now - Math.floor(this.random() * 2 * HOUR) : null,
        startCount: bornFailed ? 1 : 0,
      }),
    );
  }

  private restart(t: BatchTaskInfo, state: string): BatchTaskInfo {
    return { ...t, state, startCount: (t.startCount ?? 0) + 1, lastStarted: this.now, progressPercent: 0, progressDescription: null };
  }

  private step(t: BatchTaskInfo): BatchTaskInfo {
    const r = this.random();
    switch (t.state) {
      case 'New':
        return r < 0.15 ? this.restart(t, this.pick(['Aquired', 'Started'])) : r < 0.17 ? { ...t, state: 'Failed' } : t;
      case 'Aquired':
        return r < 0.4 ? { ...t, state: 'Started' } : t;
      case 'Started': {
        if (t.id % 3 === 0 && this.chance(0.95)) return t; // a sluggish task that often stalls for long
        if (r < 0.05) return { ...t, state: 'Failed' };
        if (r < 0.1) return { ...t, state: this.pick(['Succeeded', 'SucceededManualCleanup']), progressPercent: 100 };
        if (r < 0.12) return { ...t, state: this.pick(['Unknown', 'Paused']) };
        if (r < 0.4) return { ...t, progressPercent: Math.min(100, (t.progressPercent ?? 0) + 1 + Math.floor(this.random() * 10)) };
        if (r < 0.43) return { ...t, progressPercent: Math.max(0, (t.progressPercent ?? 0) - 5) };
        if (r < 0.46) return { ...t, progressDescription: this.pick(['Reading', 'Writing', null]) };
        return t;
      }
      case 'Failed':
        return r < 0.05 ? this.restart(t, 'Started') : r < 0.07 ? { ...t, state: 'Unknown' } : t;
      case 'Unknown':
      case 'Paused':
        return r < 0.2 ? { ...t, state: this.pick(['Started', 'Failed']) } : t;
      default:
        return r < 0.03 ? this.restart(t, 'New') : t;
    }
  }

  /** The rows SuperOffice returns; sometimes with a stale duplicate before the real row. */
  response(): BatchTaskInfo[] {
    const rows = [...this.tasks.values()].sort(() => this.random() - 0.5);
    if (rows.length > 0 && this.chance(0.1)) {
      const real = this.pick(rows);
      rows.splice(rows.indexOf(real), 0, { ...real, state: 'Unknown', progressPercent: 3 });
    }
    return rows;
  }

  nameOf(id: string): string | undefined {
    return this.tasks.get(Number(id))?.name;
  }
}

function simulate(seed: number, steps: number): { counts: Map<string, number> } {
  const random = mulberry32(seed);
  const world = new World(random);
  let prev: Snapshot = emptySnapshot('sales');
  const emitted = new Set<string>();
  const firing = new Map<string, AlertEvent>(); // episode id -> first event
  const lastNotified = new Map<string, { at: number; repeats: number }>();
  const names = new Map<string, string>();
  const counts = new Map<string, number>();

  for (let i = 0; i < steps; i++) {
    world.tick();
    const down = random() < 0.08;
    const outcome: PollOutcome = down ? unreachable() : { ok: true, tasks: world.response() };
    if (outcome.ok) for (const t of outcome.tasks) names.set(String(t.id), t.name);

    const result = evaluate(prev, outcome, world.now, RULES);
    const where = `seed ${seed}, step ${i}`;
    assert.deepEqual(evaluate(prev, outcome, world.now, RULES), result, `${where}: deterministic`);
    const { next, events } = result;
    assert.equal(next.version, prev.version, where);
    assert.equal(next.schedule, 'sales', where);

    let seenResolved = false;
    for (const e of events) {
      const label = `${where}: ${e.id}`;
      assert.ok(!emitted.has(e.id), `${label} emitted twice`);
      emitted.add(e.id);
      assert.equal(e.at, world.now, label);
      assert.ok(e.since <= e.at, `${label}: since after at`);
      assert.equal(e.schedule, 'sales', label);
      if (e.alertKind !== 'superoffice-down') {
        assert.ok(!(names.get(e.subject) ?? '').startsWith('TravelGateway'), `${label}: event for an ignored task`);
        assert.equal(String(e.task?.id), e.subject, `${label}: carries its task`);
      }
      if (!outcome.ok) assert.equal(e.alertKind, 'superoffice-down', `${label}: task event during an outage`);
      const key = `${e.kind}${e.repeat ? ' (repeat)' : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);

      if (e.kind === 'resolved') {
        seenResolved = true;
        assert.ok(typeof e.reason === 'string' && e.reason.length > 0, label);
        const episode = e.id.slice(0, -':resolved'.length);
        assert.equal(e.id, `${episode}:resolved`, label);
        assert.equal(firing.get(episode)?.kind, e.alertKind, `${label}: resolves no earlier firing of its kind`);
        firing.delete(episode);
      } else {
        assert.ok(!seenResolved, `${label}: firing after a resolution`);
        if (e.repeat) {
          assert.notEqual(e.kind, 'failed', label);
          const match = /^(.*):r(\d+)$/.exec(e.id);
          assert.ok(match, label);
          const episode = match[1]!;
          const last = lastNotified.get(episode);
          assert.ok(last && firing.has(episode), `${label}: reminder of an unknown episode`);
          assert.equal(Number(match[2]), last.repeats + 1, `${label}: reminders numbered in order`);
          assert.ok(world.now - last.at >= RULES.repeatInterval, `${label}: reminder too early`);
          lastNotified.set(episode, { at: world.now, repeats: last.repeats + 1 });
        } else {
          firing.set(e.id, e);
          lastNotified.set(e.id, { at: world.now, repeats: 0 });
        }
      }
    }

    // Every active alert is an episode that fired and has not resolved; task alerts match their task's state.
    const active = new Set(Object.values(next.alerts).map((a) => a.eventId));
    for (const a of Object.values(next.alerts)) {
      assert.ok(firing.has(a.eventId), `${where}: alert ${a.eventId} never fired or already resolved`);
      if (a.kind === 'superoffice-down') continue;
      const record = next.tasks[a.subject];
      assert.ok(record, `${where}: alert ${a.eventId} for a task not in the snapshot`);
      if (!outcome.ok) continue;
      if (a.kind === 'stalled') assert.ok(RUNNING_STATES.includes(record.task.state), `${where}: ${a.eventId} not running`);
      if (a.kind === 'stuck') assert.equal(record.task.state, 'New', `${where}: ${a.eventId}`);
    }
    // Episodes dropped silently (failed of a vanished task) are forgotten too.
    for (const episode of [...firing.keys()]) if (!active.has(episode)) firing.delete(episode);
    const downAlert = next.alerts['superoffice-down:sales'];
    assert.equal(Boolean(downAlert), next.consecutiveFailures >= RULES.unreachableAfter, `${where}: down alert vs failures`);

    prev = { ...next, version: next.version + 1 };
  }
  return { counts };
}

describe('long random sequences', () => {
  for (const seed of [1, 42, 2024, 31337]) {
    it(`seed ${seed}: invariants hold over 1500 polls`, () => {
      const { counts } = simulate(seed, 1500);
      for (const kind of ['failed', 'stalled', 'stuck', 'superoffice-down', 'resolved', 'stalled (repeat)']) {
        assert.ok((counts.get(kind) ?? 0) > 0, `seed ${seed} never produced ${kind}: ${JSON.stringify([...counts])}`);
      }
    });
  }
});
