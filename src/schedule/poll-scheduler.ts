import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { ScheduleConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { Instruments } from '../metrics/instruments.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { POLL_QUEUE } from '../store/keys.ts';

interface PollJobData {
  schedule: string;
}

const SCHEDULER_PREFIX = 'poll-';

export interface PollSchedulerOptions {
  redisUrl: string;
  prefix: string;
  schedules: ScheduleConfig[];
  store: SnapshotStore;
  runPoll: (schedule: ScheduleConfig) => Promise<unknown>;
  /** Upper bound of one poll; the per-schedule lock expires after it even if a process dies holding it. */
  lockTtlMs: number;
  instruments: Instruments;
  log: Logger;
}

export function schedulerId(schedule: string): string {
  return `${SCHEDULER_PREFIX}${schedule}`;
}

/**
 * One BullMQ job scheduler per configured schedule. Every replica upserts the same schedulers (same
 * ids), so N replicas still produce one job per tick; whichever worker takes it polls.
 */
export class PollScheduler {
  private readonly queue: Queue<PollJobData>;
  private worker: Worker<PollJobData> | null = null;
  private readonly byName: Map<string, ScheduleConfig>;
  registered = false;

  constructor(private readonly options: PollSchedulerOptions) {
    this.byName = new Map(options.schedules.map((s) => [s.name, s]));
    this.queue = new Queue<PollJobData>(POLL_QUEUE, {
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      prefix: options.prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } },
    });
    this.queue.on('error', (error) => options.log.warn({ err: error.message }, 'poll queue: Redis error'));
  }

  /** Upserts the configured schedulers and removes the ones no longer configured. */
  async register(): Promise<void> {
    for (const schedule of this.options.schedules) {
      const repeat = 'every' in schedule.timing
        ? { every: schedule.timing.every }
        : { pattern: schedule.timing.cron, ...(schedule.timing.tz ? { tz: schedule.timing.tz } : {}) };
      await this.queue.upsertJobScheduler(schedulerId(schedule.name), repeat, { name: 'poll', data: { schedule: schedule.name } });
    }
    const wanted = new Set(this.options.schedules.map((s) => schedulerId(s.name)));
    for (const existing of await this.queue.getJobSchedulers()) {
      const id = existing.id ?? existing.key;
      if (id.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) {
        await this.queue.removeJobScheduler(id);
        this.options.log.info({ scheduler: id }, 'removed job scheduler of a schedule no longer configured');
      }
    }
    this.registered = true;
  }

  start(): void {
    if (this.worker) return;
    this.worker = new Worker<PollJobData>(POLL_QUEUE, (job) => this.process(job), {
      connection: { url: this.options.redisUrl, maxRetriesPerRequest: null },
      prefix: this.options.prefix,
      // Schedules never wait for each other; the per-schedule lock keeps one schedule's polls apart.
      concurrency: Math.max(1, this.options.schedules.length),
    });
    this.worker.on('error', (error) => this.options.log.warn({ err: error.message }, 'poll worker: Redis error'));
    this.worker.on('failed', (job, error) =>
      this.options.log.error({ schedule: job?.data.schedule, err: error.message }, 'poll job failed'),
    );
  }

  private async process(job: Job<PollJobData>): Promise<string> {
    const schedule = this.byName.get(job.data.schedule);
    if (!schedule) return 'unknown schedule (removed from config)';
    const token = randomUUID();
    if (!(await this.options.store.tryLock(schedule.name, token, this.options.lockTtlMs))) {
      this.options.log.warn({ schedule: schedule.name }, 'previous poll of this schedule still running; skipping this tick');
      return 'skipped: previous poll still running';
    }
    try {
      await this.options.runPoll(schedule);
      return 'polled';
    } catch (error) {
      this.options.instruments.pollCompleted(schedule.name, 'failure', 0);
      throw error;
    } finally {
      void this.release(schedule.name, token);
    }
  }

  /**
   * Releases the schedule's lock, retrying while Redis is unreachable: a lock left behind by a poll
   * that ended during an outage would otherwise skip every tick until its TTL ran out.
   */
  private async release(schedule: string, token: string): Promise<void> {
    const deadline = Date.now() + this.options.lockTtlMs;
    for (;;) {
      try {
        await this.options.store.unlock(schedule, token);
        return;
      } catch (error) {
        if (Date.now() >= deadline) {
          this.options.log.warn({ schedule, err: (error as Error).message }, 'could not release the poll lock; it expires by itself');
          return;
        }
        await new Promise((r) => setTimeout(r, 500).unref());
      }
    }
  }

  async queueDepth(): Promise<number> {
    return this.queue.getJobCountByTypes('waiting', 'active', 'delayed');
  }

  /** Stops taking jobs and waits for the poll in flight (BullMQ's graceful close). */
  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
