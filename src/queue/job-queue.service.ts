import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { DECLARED_JOBS, LOGGER, QUEUE_CONNECTION } from '../core/tokens';
import { JOB_ATTEMPTS, JobName, JobPayloads, QUEUE_NAME } from './job-payloads';
import { QueueRuntime } from './queue-runtime';

export interface JobHandler<N extends JobName> {
  process(payload: JobPayloads[N]): Promise<void>;
  /**
   * Called once when the last attempt failed, before the job is kept as
   * failed (BullMQ's failed set; never removed automatically): makes the
   * failure visible in the data.
   */
  exhausted?(payload: JobPayloads[N], error: Error): Promise<void>;
}

export type JobState = 'missing' | 'failed' | 'queued';

interface LocalJob {
  name: JobName;
  payload: unknown;
  jobId: string;
  attempt: number;
  /** When it was enqueued (or put back after a retry delay): the oldest waiting job's age (reports.md §9.1). */
  queuedAt: number;
}

/** The queue's depth by state, and the enqueue time of the oldest waiting job (reports.md §9.1, §9.2). */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  oldestWaitingAt: Date | null;
}

/**
 * The job queue abstraction. With REDIS_URL: BullMQ; `startWorker()` (the
 * worker process, or a test) consumes. Without: jobs run inside this process,
 * one at a time, with the same retries; durability then comes from the
 * producer having stored the work in PostgreSQL first and re-enqueueing what
 * is still pending at start-up (see usage-sweeper.service.ts).
 */
@Injectable()
export class JobQueueService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly queue?: Queue;
  private worker?: Worker;
  private readonly consumers: (() => void)[] = [];
  private consuming = false;
  private readonly log: Logger;
  // In-process mode.
  private readonly local: LocalJob[] = [];
  private readonly localIds = new Set<string>();
  private localRunning = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
    @Inject(QUEUE_CONNECTION) private readonly connection: QueueRuntime,
    @Inject(DECLARED_JOBS) private readonly declared: string[],
  ) {
    this.log = log.child({ component: 'queue' });
    if (connection.redis) {
      this.queue = new Queue(QUEUE_NAME, { connection: connection.redis, prefix: config.queuePrefix });
      this.queue.on('error', (error) => this.log.warn({ err: { message: error.message } }, 'queue error'));
    }
  }

  get mode(): 'bullmq' | 'in-process' {
    return this.queue ? 'bullmq' : 'in-process';
  }

  /**
   * Registers the one handler of a declared job (called from a processor's
   * onModuleInit). A job no feature declares, or a second handler, is a
   * programming error and stops the process at start.
   */
  handle<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (!this.declared.includes(name)) throw new Error(`job ${name} has a handler but no feature declares it`);
    if (this.handlers.has(name)) throw new Error(`job ${name} has two handlers`);
    this.handlers.set(name, handler as unknown as JobHandler<JobName>);
  }

  /** Throws unless every declared job has its handler: a consuming process must be able to run them all. */
  assertComplete(): void {
    const missing = this.declared.filter((name) => !this.handlers.has(name as JobName));
    if (missing.length > 0) throw new Error(`declared job(s) without a handler in this process: ${missing.join(', ')}`);
  }

  /** In-process mode consumes in this process: every handler must be there once modules are initialised. */
  onApplicationBootstrap(): void {
    if (!this.queue) {
      this.assertComplete();
      this.startConsumers();
    }
  }

  /**
   * Runs `start` once this process consumes queued work: at start-up with the
   * in-process queue, or when `startWorker()` is called (the worker process).
   * Background loops that belong wherever the queue is consumed (the reports
   * rollups) register here.
   */
  whenConsuming(start: () => void): void {
    this.consumers.push(start);
    if (this.consuming) start();
  }

  private startConsumers(): void {
    if (this.consuming) return;
    this.consuming = true;
    for (const start of this.consumers) start();
  }

  /**
   * Adds a job. `jobId` (no ':', BullMQ refuses it) makes a repeated enqueue
   * of the same work a no-op while the job exists.
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: { jobId: string }): Promise<void> {
    if (this.queue) {
      await this.queue.add(name, payload, {
        jobId: options.jobId,
        attempts: JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.config.queueRetryDelayMs },
        removeOnComplete: true,
        // Kept for inspection (and by jobState for the sweeper).
        removeOnFail: false,
      });
      return;
    }
    if (this.closed || this.localIds.has(options.jobId)) return;
    this.localIds.add(options.jobId);
    this.local.push({ name, payload, jobId: options.jobId, attempt: 0, queuedAt: Date.now() });
    this.drainLocal();
  }

  /** Where a job is: not in the queue, failed for good, or waiting/active/delayed. */
  async jobState(jobId: string): Promise<JobState> {
    if (this.queue) {
      const state = await this.queue.getJobState(jobId);
      return state === 'unknown' || state === 'completed' ? 'missing' : state === 'failed' ? 'failed' : 'queued';
    }
    return this.localIds.has(jobId) ? 'queued' : 'missing';
  }

  /**
   * Starts consuming the BullMQ queue in this process. A worker killed in the
   * middle of a job loses its lock after `lockDuration`; another worker's
   * stalled-job check then puts the job back (processing is idempotent).
   */
  startWorker(concurrency = 4): void {
    if (!this.queue || this.worker) return;
    this.assertComplete();
    const redis = this.connection.redis!;
    this.worker = new Worker(QUEUE_NAME, (job) => this.runBullJob(job), {
      connection: redis,
      prefix: this.config.queuePrefix,
      concurrency,
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 10,
    });
    this.worker.on('error', (error) => this.log.warn({ err: { message: error.message } }, 'worker error'));
    this.worker.on('failed', (job, error) =>
      this.log.warn({ job: job?.id, attempt: job?.attemptsMade, err: { message: error.message } }, 'job attempt failed'),
    );
    this.startConsumers();
  }

  private async runBullJob(job: Job): Promise<void> {
    const handler = this.handlers.get(job.name as JobName);
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    try {
      await handler.process(job.data);
    } catch (error) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last && handler.exhausted) await handler.exhausted(job.data, error as Error);
      throw error;
    }
  }

  private drainLocal(): void {
    if (this.localRunning || this.closed) return;
    const next = this.local.shift();
    if (!next) return;
    this.localRunning = true;
    void this.runLocal(next).finally(() => {
      this.localRunning = false;
      this.drainLocal();
    });
  }

  private async runLocal(job: LocalJob): Promise<void> {
    const handler = this.handlers.get(job.name);
    try {
      if (!handler) throw new Error(`no handler for job ${job.name}`);
      await handler.process(job.payload as never);
      this.localIds.delete(job.jobId);
    } catch (error) {
      job.attempt += 1;
      if (job.attempt >= JOB_ATTEMPTS || !handler || this.closed) {
        this.localIds.delete(job.jobId);
        this.log.error({ job: job.jobId, err: { message: (error as Error).message } }, 'job failed for good');
        if (handler?.exhausted && !this.closed) await handler.exhausted(job.payload as never, error as Error).catch(() => undefined);
        return;
      }
      this.log.warn({ job: job.jobId, attempt: job.attempt, err: { message: (error as Error).message } }, 'job attempt failed; retrying');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        job.queuedAt = Date.now();
        this.local.push(job);
        this.drainLocal();
      }, this.config.queueRetryDelayMs * 2 ** (job.attempt - 1));
      this.timers.add(timer);
    }
  }

  /**
   * How deep the queue is. BullMQ: its counts (waiting includes prioritized
   * jobs) and the oldest job of the wait list. In-process: the
   * local list, the running job, the retry timers; a job that failed for good
   * is logged and dropped, so `failed` is 0 there.
   */
  async depth(): Promise<QueueDepth> {
    if (this.queue) {
      const counts = await this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
      const [oldest] = await this.queue.getJobs(['wait'], 0, 0, true);
      return {
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        oldestWaitingAt: oldest?.timestamp ? new Date(oldest.timestamp) : null,
      };
    }
    const oldest = this.local.reduce<number | null>((min, job) => (min === null || job.queuedAt < min ? job.queuedAt : min), null);
    return { waiting: this.local.length, active: this.localRunning ? 1 : 0, delayed: this.timers.size, failed: 0, oldestWaitingAt: oldest === null ? null : new Date(oldest) };
  }

  /** Waits until the in-process queue is idle (tests); immediate with BullMQ. */
  async idle(): Promise<void> {
    while (this.localRunning || this.local.length > 0) await new Promise((r) => setTimeout(r, 10));
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    while (this.localRunning) await new Promise((r) => setTimeout(r, 10));
    await this.worker?.close();
    await this.queue?.close();
  }
}
