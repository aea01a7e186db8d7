/** The simulator's scenarios: scripted steps that change the task table over time. */
import { SYSTEM_ASSOCIATE_ID } from '../core/task.ts';
import type { TaskPatch, TaskTable } from './task-table.ts';

/** What a scenario step can do to the task table. */
export interface ScenarioWorld {
  /** When this step was due (real time). */
  readonly now: number;
  upsert(patch: TaskPatch): void;
  remove(id: number): void;
}

export interface Scenario {
  name: string;
  description: string;
  /** Associates whose tasks the scenario writes. */
  associates: number[];
  /** Applies step `n`; step n is due n * stepMs after the simulator started (step 0 at start). */
  step(n: number, world: ScenarioWorld): void;
  /** Every Nth Batch call answers HTTP 500. */
  failEveryNthCall?: number;
  /** The tenant state at step n (what /api/state answers); Running when absent. Batch answers 503 unless Running or OnlineMaintenance. */
  tenantState?(n: number): string;
}

const A = 101;
const B = 102;
/** An associate that no schedule of the printed example lists (`associates: all` watches its tasks). */
const UNLISTED = 205;

/** The `batchwatch demo` story: a success, a failure, a stall, a task that never starts, a restart. */
const story: Scenario = {
  name: 'story',
  description:
    'ImportContacts succeeds then vanishes, MailingSend fails, ExportSelection freezes at 40%, MassUpdate stays New, TravelGateway restarts',
  associates: [A, B],
  step(n, w) {
    const startedNow = { state: 'Started', lastStarted: w.now } as const;
    // 1001 ImportContacts: New -> Started 0..100% -> Succeeded -> removed.
    const importSteps: Record<number, Partial<TaskPatch>> = {
      0: { name: 'ImportContacts', state: 'New', progressPercent: 0, description: 'Import contacts from leads.csv', created: w.now },
      1: { ...startedNow, startCount: 1, progressPercent: 0, progressDescription: 'Reading file' },
      2: { progressPercent: 40, progressDescription: 'Importing 400 of 1000' },
      3: { progressPercent: 80, progressDescription: 'Importing 800 of 1000' },
      4: { state: 'Succeeded', progressPercent: 100, progressDescription: 'Done', result: 'Imported 1000 contacts' },
    };
    const importStep = importSteps[n];
    if (importStep) w.upsert({ ...importStep, id: 1001, associateId: A });
    if (n === 6) w.remove(1001);

    // 1002 MailingSend: Started with progress, then Failed with a response text that needs escaping.
    if (n === 0) {
      w.upsert({
        id: 1002,
        associateId: A,
        name: 'MailingSend',
        ...startedNow,
        startCount: 1,
        progressPercent: 10,
        description: 'Newsletter "Spring" <news@example.com>',
      });
    }
    if (n === 1) w.upsert({ id: 1002, associateId: A, progressPercent: 35, progressDescription: 'Sending 350 of 1000' });
    if (n === 2) {
      w.upsert({
        id: 1002,
        associateId: A,
        state: 'Failed',
        response: 'SMTP relay refused <test@example.com>: 550 5.7.1 Relaying denied & message "dropped"',
        result: 'Error',
      });
    }

    if (n === 0) {
      // 1003 ExportSelection: Started at 40% and never moves again.
      w.upsert({
        id: 1003,
        associateId: B,
        name: 'ExportSelection',
        ...startedNow,
        startCount: 1,
        progressPercent: 40,
        progressDescription: 'Exporting rows 4000 of 10000',
      });
      // 1004 MassUpdate: New forever (nobody picks it up).
      w.upsert({
        id: 1004,
        associateId: B,
        name: 'MassUpdate',
        state: 'New',
        progressPercent: 0,
        description: 'Set category=VIP on 2 000 companies',
      });
    }

    // 1005 TravelGateway: a long-lived task that keeps moving and restarts every minute (StartCount+1).
    const cycle = 12;
    if (n === 0) w.upsert({ id: 1005, associateId: B, name: 'TravelGateway', ...startedNow, startCount: 1, progressPercent: 5 });
    else if (n % cycle === 4) {
      w.upsert({
        id: 1005,
        associateId: B,
        ...startedNow,
        startCount: 1 + Math.ceil(n / cycle),
        progressPercent: 0,
        progressDescription: 'Restarted',
      });
    } else {
      const sinceRestart = n < 4 ? n : (n - 4) % cycle;
      w.upsert({
        id: 1005,
        associateId: B,
        progressPercent: Math.min(95, 5 + sinceRestart * 8),
        progressDescription: `Sync pass ${sinceRestart}`,
      });
    }
  },
};

function quietStep(n: number, w: ScenarioWorld): void {
  // Tasks that run and succeed, again and again (a new run every 6 steps): two of the listed associates,
  // one of an associate nobody lists and a system task (for `associates: all` with includeSystemTasks).
  const run = Math.floor(n / 6) + 1;
  const phase = n % 6;
  const tasks = [
    { id: 2001, associateId: A, name: 'NightlyCleanup' },
    { id: 2002, associateId: B, name: 'DuplicateCheck' },
    { id: 2003, associateId: UNLISTED, name: 'ReportPrinting' },
    { id: 2004, associateId: SYSTEM_ASSOCIATE_ID, name: 'StatusMonitorRegeneration', isSystemTask: true },
  ];
  for (const t of tasks) {
    if (phase === 0) w.upsert({ ...t, state: 'New', progressPercent: 0, progressDescription: null, created: w.now });
    if (phase === 1) w.upsert({ ...t, state: 'Started', lastStarted: w.now, startCount: run, progressPercent: 0 });
    if (phase === 2) w.upsert({ ...t, progressPercent: 50 });
    if (phase === 3) w.upsert({ ...t, progressPercent: 90 });
    if (phase === 4) w.upsert({ ...t, state: 'Succeeded', progressPercent: 100, result: 'OK' });
  }
}

const quiet: Scenario = {
  name: 'quiet',
  description: 'tasks of 101 and 102, of 205 (listed nowhere) and a system task (associate 0) that run and succeed, over and over',
  associates: [A, B],
  step: quietStep,
};

const empty: Scenario = {
  name: 'empty',
  description: 'no tasks (drive it with upsertTask/removeTask)',
  associates: [A, B],
  step() {},
};

const flaky: Scenario = {
  name: 'flaky',
  description: 'like quiet, but every 3rd Batch call answers HTTP 500',
  associates: [A, B],
  step: quietStep,
  failEveryNthCall: 3,
};

/** Steps per maintenance cycle: Running for 12 steps (a minute at the default 5 s), then 12 in OfflineMaintenance, then Running for 12. */
const MAINTENANCE_CYCLE = 36;

const maintenance: Scenario = {
  name: 'maintenance',
  description:
    'like quiet, but every 3 minutes the tenant goes into OfflineMaintenance for a minute (Batch answers 503; /api/state says so)',
  associates: [A, B],
  step: quietStep,
  tenantState(n) {
    const phase = n % MAINTENANCE_CYCLE;
    return phase >= 12 && phase < 24 ? 'OfflineMaintenance' : 'Running';
  },
};

export const SCENARIOS: Readonly<Record<string, Scenario>> = { story, quiet, empty, flaky, maintenance };

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

/** Applies a scenario's steps as real time passes; applied lazily whenever the table is read. */
export class ScenarioRunner {
  private readonly startedAt: number;
  private pausedAt: number | null = null;
  private pausedTotal = 0;
  private applied = -1;

  constructor(
    private readonly scenario: Scenario,
    private readonly table: TaskTable,
    private readonly stepMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.startedAt = clock();
    this.advance();
  }

  /** Scenario time: real time since start, minus paused time. */
  private elapsed(now: number): number {
    const pausedNow = this.pausedAt === null ? 0 : now - this.pausedAt;
    return now - this.startedAt - this.pausedTotal - pausedNow;
  }

  advance(): void {
    const now = this.clock();
    const elapsed = this.elapsed(now);
    const due = Math.floor(elapsed / this.stepMs);
    while (this.applied < due) {
      const n = ++this.applied;
      const stepTime = now - (elapsed - n * this.stepMs);
      const world: ScenarioWorld = {
        now: stepTime,
        upsert: (patch) => this.table.upsert(patch, stepTime),
        remove: (id) => this.table.remove(id),
      };
      this.scenario.step(n, world);
    }
  }

  /** The last step applied. */
  get step(): number {
    return this.applied;
  }

  pause(): void {
    this.advance();
    this.pausedAt ??= this.clock();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    this.pausedTotal += this.clock() - this.pausedAt;
    this.pausedAt = null;
  }
}
