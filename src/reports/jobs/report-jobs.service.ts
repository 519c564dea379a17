import { Injectable } from '@nestjs/common';
import Decimal from 'decimal.js';
import { DomainError } from '../../http/domain-error';
import { JobQueueService } from '../../queue/job-queue.service';
import { DEFAULT_LIMIT } from './dto/jobs.dto';
import { JobListView, JobView } from './dto/jobs.views';
import { decodeJobCursor, encodeJobCursor } from './job-cursor';
import { newJobId } from './job-id';
import { FINAL_STATES, JobFilter, JobRow, ReportJobRepository } from './report-job.repository';
import { ReportJobsError } from './report-jobs.errors';

/** What starts a job: its kind, scope, who asked and why. */
export interface CreateJobCommand {
  kind: string;
  scope: Record<string, unknown>;
  createdBy: string;
  reason?: string | null;
}

export interface ListJobsCommand extends JobFilter {
  limit?: number;
  cursor?: string;
}

/**
 * Report jobs (reports.md 4.7): created here (stored, then queued under
 * their own id), listed, read and cancelled. Running them is
 * ReportJobRunner's part.
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

  /** Queues `reports.run-job` for a stored job; the BullMQ job id is the job's id. */
  async enqueue(jobId: string): Promise<void> {
    await this.queue.enqueue('reports.run-job', { jobId }, { jobId });
  }

  async list(command: ListJobsCommand): Promise<JobListView> {
    const filter: JobFilter = { kind: command.kind, state: command.state };
    const limit = command.limit ?? DEFAULT_LIMIT;
    const after = command.cursor === undefined ? undefined : decodeJobCursor(command.cursor, filter);
    const rows = await this.jobs.list(filter, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      jobs: page.map(toView),
      next_cursor: rows.length > limit && last ? encodeJobCursor({ createdAt: last.position, id: last.id }, filter) : null,
    };
  }

  async get(id: string): Promise<JobView> {
    return toView(await this.found(id));
  }

  /** `cancelling` (a running job stops at its next chunk boundary) or `cancelled` (a queued one); 409 once finished. */
  async cancel(id: string): Promise<JobView> {
    const row = await this.jobs.requestCancel(id);
    if (row) return toView(row);
    const job = await this.found(id);
    throw new DomainError(ReportJobsError.Finished, `job ${id} has already finished (${job.state})`);
  }

  private async found(id: string): Promise<JobRow> {
    const row = await this.jobs.find(id);
    if (!row) throw new DomainError(ReportJobsError.NotFound, `job ${id} not found`);
    return row;
  }
}

/** The wire form of a job (reports.md 4.7). */
export function toView(row: JobRow): JobView {
  const total = row.progress_total;
  const done = row.progress_done;
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    reason: row.reason,
    created_at: row.created_at,
    created_by: row.created_by,
    started_at: row.started_at,
    finished_at: row.finished_at,
    scope: (row.scope ?? {}) as Record<string, unknown>,
    progress: {
      total,
      done,
      ratio: total === null ? null : total === 0 ? (row.state === 'succeeded' ? '1.000000' : '0.000000') : new Decimal(Math.min(done, total)).div(total).toFixed(6, Decimal.ROUND_HALF_EVEN),
      eta_seconds: etaSeconds(row),
    },
    result: (row.result ?? null) as Record<string, unknown> | null,
    error: row.error,
  };
}

/** Null until a chunk has finished; 0 once succeeded; the remaining work at the pace so far while running. */
function etaSeconds(row: JobRow): number | null {
  if (row.state === 'succeeded') return 0;
  if (FINAL_STATES.includes(row.state) || row.progress_total === null || row.progress_done <= 0 || row.elapsed_seconds === null) return null;
  const left = Math.max(0, row.progress_total - row.progress_done);
  return Math.round((row.elapsed_seconds * left) / row.progress_done);
}
