import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../core/tokens';
import { JobContext, ReportJobHandler, ReportJobRegistry } from './report-job-registry';
import { FINAL_STATES, JobRow, ReportJobRepository } from './report-job.repository';

/**
 * A failure no retry can fix (a scope the handler cannot run): the job ends
 * `failed` at once instead of going through the queue's attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** PostgreSQL's serialization failure and deadlock: the chunk's transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const CHUNK_TRIES = 5;

type Step = 'more' | 'done';

/**
 * Runs one report job (the `reports.run-job` queue job): plans it on its
 * first run, then runs its kind's chunks from the stored cursor until the
 * last one, honouring cancel requests at chunk boundaries (reports.md 4.7).
 * Each chunk's transaction first locks the job row, does the kind's work and
 * stores cursor, progress and result; a crash anywhere leaves the job at its
 * last finished chunk, and the queue's retry or the sweeper resumes it there.
 * Running the same job twice at once is harmless: the row lock serialises the
 * chunks and each reads the cursor the other stored.
 */
@Injectable()
export class ReportJobRunner {
  private readonly log: Logger;

  constructor(
    private readonly db: DataSource,
    private readonly jobs: ReportJobRepository,
    private readonly registry: ReportJobRegistry,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'report-jobs' });
  }

  async run(jobId: string): Promise<void> {
    const job = await this.jobs.find(jobId);
    if (!job || FINAL_STATES.includes(job.state)) return;
    if (job.state === 'cancelling') {
      await this.jobs.markCancelled(jobId);
      return;
    }
    const handler = this.registry.get(job.kind);
    if (!handler) {
      await this.jobs.markFailed(jobId, `no handler for job kind ${job.kind} in this process`);
      return;
    }
    const running = await this.jobs.markRunning(jobId);
    if (!running) return;
    try {
      if (running.progress_total === null && (await this.plan(running, handler)) === 'done') return;
      for (;;) {
        // Each chunk commits on its own; the loop only decides whether another follows.
        const pause = { ms: 0 };
        if ((await this.chunk(running, handler, pause)) !== 'more') break;
        if (pause.ms > 0) await new Promise((resolve) => setTimeout(resolve, pause.ms));
      }
    } catch (error) {
      if (error instanceof PermanentJobError) {
        await this.jobs.markFailed(jobId, error.message);
        return;
      }
      throw error;
    }
  }

  private async plan(job: JobRow, handler: ReportJobHandler): Promise<Step> {
    return this.retrying(job.id, () =>
      this.db.transaction(async (m) => {
        const locked = await this.jobs.lock(job.id, m);
        if (!locked || locked.state !== 'running' || locked.progress_total !== null) return 'more';
        const plan = await handler.plan({ id: job.id, kind: job.kind, scope: job.scope, cursor: null, result: null }, m);
        await this.jobs.savePlan(job.id, plan, m);
        if (plan.cursor !== null) return 'more';
        await this.jobs.saveChunk(job.id, { cursor: null, done: 0, result: plan.result, last: true }, m);
        return 'done';
      }),
    );
  }

  private async chunk(job: JobRow, handler: ReportJobHandler, pause: { ms: number } = { ms: 0 }): Promise<Step> {
    const isolation = handler.isolation?.(job.scope) ?? 'READ COMMITTED';
    return this.retrying(job.id, () =>
      this.db.transaction(isolation, async (m) => {
        const locked = await this.jobs.lock(job.id, m);
        if (!locked) return 'done';
        if (locked.state === 'cancelling') {
          await this.jobs.markCancelled(job.id, m);
          return 'done';
        }
        if (locked.state !== 'running' || locked.cursor === null) return 'done';
        const context: JobContext = { id: job.id, kind: job.kind, scope: job.scope, cursor: locked.cursor, result: locked.result };
        const outcome = await handler.chunk(context, m);
        const last = outcome.cursor === null;
        await this.jobs.saveChunk(job.id, { cursor: outcome.cursor, done: outcome.done, result: outcome.result, last }, m);
        pause.ms = last ? 0 : (outcome.pauseMs ?? 0);
        return last ? 'done' : 'more';
      }),
    );
  }

  private async retrying<T>(jobId: string, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        const code = (error as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (error as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || i >= CHUNK_TRIES) throw error;
        this.log.info({ job: jobId, code, try: i }, 'chunk transaction conflicted; running it again');
      }
    }
  }
}
