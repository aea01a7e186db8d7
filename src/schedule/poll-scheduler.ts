/** The poll schedules as BullMQ job schedulers: one job per tick across replicas, one poll of a schedule at a time. */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { RedisTarget, ScheduleConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { scrubbedError } from '../redact/secrets.ts';
import { createRedisClient, type RedisClient } from '../redis/connections.ts';
import type { PollLock } from '../store/poll-lock.ts';
import { POLL_QUEUE } from '../store/keys.ts';

interface PollJobData {
  schedule: string;
}

const SCHEDULER_PREFIX = 'poll-';
const DEFAULT_LOCK_TTL_MS = 30_000;

/** Where the poll queue lives: the configured Redis target, or (tests, tools) a plain URL. */
export type PollQueueRedis = { redis: RedisTarget; redisUrl?: undefined } | { redisUrl: string; redis?: undefined };

export type PollSchedulerOptions = PollQueueRedis & {
  prefix: string;
  schedules: ScheduleConfig[];
  /** Where the per-schedule poll lock lives: the snapshot store hands out one on its own connection. */
  store: { pollLock(): PollLock };
  runPoll: (schedule: ScheduleConfig) => Promise<unknown>;
  /**
   * Lifetime of the per-schedule lock without renewal: a poll renews it while it runs, so this only
   * bounds how long a schedule stays blocked after a process died mid-poll. Default 30 s.
   */
  lockTtlMs?: number;
  /**
   * BullMQ's stall detection (a job in active whose lock expired goes back to wait): lock lifetime and check
   * interval, both 30 s by default. Tests shorten them.
   */
  stall?: { lockDurationMs: number; stalledIntervalMs: number };
  log: Logger;
};

export function schedulerId(schedule: string): string {
  return `${SCHEDULER_PREFIX}${schedule}`;
}

/**
 * One BullMQ job scheduler per configured schedule. Every replica upserts the same schedulers (same
 * ids), so N replicas still produce one job per tick; whichever worker takes it polls.
 */
export class PollScheduler {
  /** Shared by the queue and the worker; BullMQ opens the worker's blocking connection as a copy of it. */
  private readonly connection: RedisClient;
  private readonly queue: Queue<PollJobData>;
  private worker: Worker<PollJobData> | null = null;
  private readonly byName: Map<string, ScheduleConfig>;
  private readonly lockTtlMs: number;
  private readonly lock: PollLock;
  private closed = false;
  /** The repair of the schedulers under way (after a reconnect or by the periodic check); close() waits for it. */
  private repair: Promise<void> | null = null;
  /** A reconnect happened and its repair has not succeeded yet: the next check repairs as after a reconnect. */
  private reconnectRepairDue = false;
  private checkTimer: NodeJS.Timeout | null = null;
  /** Schedulers found removed (by a replica with another config), logged once each. */
  private readonly goneLogged = new Set<string>();
  registered = false;

  constructor(private readonly options: PollSchedulerOptions) {
    this.byName = new Map(options.schedules.map((s) => [s.name, s]));
    this.lockTtlMs = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
    this.connection = createRedisClient(options.redis ?? { url: options.redisUrl }, 'queue');
    this.lock = options.store.pollLock();
    this.queue = new Queue<PollJobData>(POLL_QUEUE, {
      connection: this.connection,
      prefix: options.prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } },
    });
    this.queue.on('error', (error) => options.log.warn({ err: error.message }, 'poll queue: Redis error'));
    this.restoresNextJobsAfterReconnect();
  }

  /** Upserts the configured schedulers and removes the ones no longer configured. */
  async register(): Promise<void> {
    for (const schedule of this.options.schedules) await this.upsertScheduler(schedule);
    const wanted = new Set(this.options.schedules.map((s) => schedulerId(s.name)));
    for (const existing of await this.queue.getJobSchedulers()) {
      const id = existing.id ?? existing.key;
      if (id.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) {
        await this.queue.removeJobScheduler(id);
        this.options.log.info({ scheduler: id }, 'removed job scheduler of a schedule no longer configured');
      }
    }
    // Every scheduler was just upserted: that is the repair a reconnect before now asked for.
    this.reconnectRepairDue = false;
    this.registered = true;
  }

  private async upsertScheduler(schedule: ScheduleConfig): Promise<void> {
    const repeat =
      'every' in schedule.timing
        ? { every: schedule.timing.every }
        : { pattern: schedule.timing.cron, ...(schedule.timing.tz ? { tz: schedule.timing.tz } : {}) };
    await this.queue.upsertJobScheduler(schedulerId(schedule.name), repeat, { name: 'poll', data: { schedule: schedule.name } });
  }

  /**
   * BullMQ creates a scheduler's next job when a worker receives the current one. When Redis goes away just
   * after running a worker's moveToActive or moveToFinished (which also hands out the next job) but before the
   * reply reached us, the command is resent after the reconnect: the job it had already moved to active is
   * never received, so no next job is created, and the schedule stays silent until BullMQ's stall check puts
   * that job back (lock duration + stall interval, up to a minute). So once the connection is back, a
   * scheduler whose next job is not waiting is upserted again, which creates it; the stranded job, when the
   * stall check returns it, no longer matches the scheduler and does not start a second chain.
   */
  private restoresNextJobsAfterReconnect(): void {
    let lost = false;
    this.connection.on('close', () => (lost = true));
    this.connection.on('ready', () => {
      if (!lost) return;
      lost = false;
      this.reconnectRepairDue = true;
      this.startRepair();
    });
  }

  /**
   * The periodic check: on Redis Cluster a node failover may emit no close/ready on the Cluster object, a reply
   * can be lost without a disconnect, and a repair after a reconnect can fail. Every few seconds (lock TTL / 3,
   * at most 10 s) each scheduler's next job is looked at (one scheduler read and one job state per schedule).
   */
  private startPeriodicCheck(): void {
    const every = Math.min(this.lockTtlMs / 3, 10_000);
    this.checkTimer = setInterval(() => this.startRepair(), every);
    this.checkTimer.unref();
  }

  /** Starts a repair unless one is under way (a reconnect's then stays due for the next check). */
  private startRepair(): void {
    if (this.closed || !this.registered || this.repair) return;
    const afterReconnect = this.reconnectRepairDue;
    this.reconnectRepairDue = false;
    if (afterReconnect) this.options.log.debug({}, 'checking the job schedulers after a reconnect');
    this.repair = this.repairMissingNextJobs(afterReconnect)
      .catch((error: unknown) => {
        if (afterReconnect) this.reconnectRepairDue = true; // the next check tries again
        this.options.log.warn({ err: (error as Error).message }, 'could not check the job schedulers; trying again at the next check');
      })
      .finally(() => (this.repair = null));
  }

  /**
   * Upserts a scheduler whose next job is missing. Never one whose next job is waiting (that would move a due
   * cron tick to the next slot) or delayed; never one that no longer exists (a replica with a newer config
   * removed it). An active next job is stranded after a reconnect (its reply may have been lost); otherwise it
   * is stranded only once its lock is gone (a worker holding it creates the next job itself).
   */
  private async repairMissingNextJobs(afterReconnect: boolean): Promise<void> {
    for (const schedule of this.options.schedules) {
      if (this.closing()) return;
      const id = schedulerId(schedule.name);
      const next = (await this.queue.getJobScheduler(id))?.next;
      if (next == null) {
        if (!this.goneLogged.has(id)) {
          this.goneLogged.add(id);
          this.options.log.warn(
            { schedule: schedule.name, scheduler: id },
            'the job scheduler of this schedule was removed (by a replica with another config?); not recreating it',
          );
        }
        continue;
      }
      this.goneLogged.delete(id);
      const jobId = `repeat:${id}:${next}`;
      const state = await this.queue.getJobState(jobId);
      if (state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'waiting-children') continue;
      if (state === 'active' && !afterReconnect && (await this.isLocked(jobId))) continue;
      // A worker may have moved the scheduler on meanwhile (the stall check returned the job): then it is fine.
      if (this.closing()) return;
      if ((await this.queue.getJobScheduler(id))?.next !== next) continue;
      if (this.closing()) return;
      await this.upsertScheduler(schedule);
      this.options.log.info(
        { schedule: schedule.name, stranded: state, found: afterReconnect ? 'after a reconnect' : 'by the periodic check' },
        'the schedule had no next poll (a Redis reply lost?); scheduled it again',
      );
    }
  }

  /** True once close() began: a repair then stops before its next command. */
  private closing(): boolean {
    if (this.closed) this.options.log.debug({}, 'job scheduler check stopped: closing');
    return this.closed;
  }

  private async isLocked(jobId: string): Promise<boolean> {
    return (await this.connection.exists(`${this.queue.toKey(jobId)}:lock`)) === 1;
  }

  start(): void {
    if (this.worker || this.closed) return;
    // A failed job's reason and stack trace are stored in Redis by BullMQ: scrubbed first.
    this.worker = new Worker<PollJobData>(
      POLL_QUEUE,
      (job) => this.process(job).catch((error: unknown) => Promise.reject(scrubbedError(error))),
      {
        connection: this.connection,
        prefix: this.options.prefix,
        // Schedules never wait for each other; the per-schedule lock keeps one schedule's polls apart.
        concurrency: Math.max(1, this.options.schedules.length),
        ...(this.options.stall
          ? { lockDuration: this.options.stall.lockDurationMs, stalledInterval: this.options.stall.stalledIntervalMs }
          : {}),
      },
    );
    this.worker.on('error', (error) => this.options.log.warn({ err: error.message }, 'poll worker: Redis error'));
    this.worker.on('failed', (job, error) =>
      this.options.log.error({ schedule: job?.data.schedule, err: error.message }, 'poll job failed'),
    );
    this.startPeriodicCheck();
  }

  private async process(job: Job<PollJobData>): Promise<string> {
    const schedule = this.byName.get(job.data.schedule);
    if (!schedule) {
      // Another replica with a different config registered it (a rolling config change).
      this.options.log.warn({ schedule: job.data.schedule }, 'poll tick for a schedule this replica does not have in its config; skipped');
      return "skipped: schedule not in this replica's config";
    }
    const token = randomUUID();
    let locked: boolean;
    try {
      locked = await this.lock.tryLock(schedule.name, token, this.lockTtlMs);
    } catch (error) {
      // The SET may have taken the lock before its reply was lost (Redis went away): give it back, or every
      // tick would be skipped until the lock expired.
      void this.release(schedule.name, token);
      throw error;
    }
    if (!locked) {
      this.options.log.warn({ schedule: schedule.name }, 'previous poll of this schedule still running; skipping this tick');
      return 'skipped: previous poll still running';
    }
    const heartbeat = setInterval(() => {
      this.lock.extendLock(schedule.name, token, this.lockTtlMs).then(
        (held) =>
          held ||
          this.options.log.warn(
            { schedule: schedule.name },
            'poll lock lost while polling (Redis outage?); the compare-and-set still guards the snapshot',
          ),
        () => undefined,
      );
    }, this.lockTtlMs / 3);
    try {
      await this.options.runPoll(schedule);
      return 'polled';
    } finally {
      clearInterval(heartbeat);
      void this.release(schedule.name, token);
    }
  }

  /**
   * Releases the schedule's lock, retrying while Redis is unreachable: a lock left behind by a poll
   * that ended during an outage would otherwise skip every tick until its TTL ran out.
   */
  private async release(schedule: string, token: string): Promise<void> {
    const deadline = Date.now() + this.lockTtlMs;
    for (;;) {
      try {
        await this.lock.unlock(schedule, token);
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
    this.closed = true;
    if (this.checkTimer) clearInterval(this.checkTimer);
    await this.worker?.close();
    // A repair under way stops before its next command (closed is set); its command in flight is waited for while
    // Redis answers, or fails with the disconnect below.
    const repair = this.repair;
    if (repair && this.connection.status === 'ready') {
      await Promise.race([repair, new Promise((resolve) => this.connection.once('close', resolve))]);
    }
    await this.queue.close();
    // BullMQ leaves a connection it was given open; quit() would wait for a Redis that may be down.
    this.connection.disconnect();
    await repair;
  }
}
