import { Injectable } from '@nestjs/common';
import { Sql } from '../../database/query-result';
import { JobQueueService } from '../../queue/job-queue.service';
import { JobView } from './dto/jobs.views';
import { newJobId } from './job-id';
import { toView } from './job-view';
import { ReportJobRepository } from './report-job.repository';

/** What starts a job: its kind, scope, who asked and why. */
export interface CreateJobCommand {
  kind: string;
  scope: Record<string, unknown>;
  createdBy: string;
  reason?: string | null;
}

/**
 * Starting report jobs (reports.md 4.7): stored, then queued under their own
 * id. Running them is ReportJobRunner's part; the routes that list, read and
 * cancel them are ReportJobsAdminService's.
 */
@Injectable()
export class ReportJobsService {
  constructor(
    private readonly jobs: ReportJobRepository,
    private readonly queue: JobQueueService,
  ) {}

  /** Stores the job, then queues it; a lost enqueue is made good by the sweeper. */
  async create(command: CreateJobCommand): Promise<JobView> {
    const row = await this.jobs.insert({ id: newJobId(), kind: command.kind, reason: command.reason ?? null, createdBy: command.createdBy, scope: command.scope });
    await this.enqueue(row.id);
    return toView(row);
  }

  /**
   * Stores the job inside the caller's transaction (a correction and its
   * re-rate job commit together, reports.md 4.3) without queueing it: call
   * `enqueue(job.id)` after the commit. Should the process die in between,
   * the sweeper queues the stored job.
   */
  async createWithin(command: CreateJobCommand, sql: Sql): Promise<JobView> {
    const row = await this.jobs.insert({ id: newJobId(), kind: command.kind, reason: command.reason ?? null, createdBy: command.createdBy, scope: command.scope }, sql);
    return toView(row);
  }

  /** Queues `reports.run-job` for a stored job; the BullMQ job id is the job's id. */
  async enqueue(jobId: string): Promise<void> {
    await this.queue.enqueue('reports.run-job', { jobId }, { jobId });
  }
}
