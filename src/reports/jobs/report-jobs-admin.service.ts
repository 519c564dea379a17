import { Injectable } from '@nestjs/common';
import { DomainError } from '../../http/domain-error';
import { DEFAULT_LIMIT } from './dto/jobs.dto';
import { JobListView, JobView } from './dto/jobs.views';
import { decodeJobCursor, encodeJobCursor } from './job-cursor';
import { toView } from './job-view';
import { JobFilter, JobRow, ReportJobRepository } from './report-job.repository';
import { ReportJobsError } from './report-jobs.errors';

export interface ListJobsCommand extends JobFilter {
  limit?: number;
  cursor?: string;
}

/** The `/admin/reports/jobs` routes (reports.md 4.7): list, read and cancel jobs. */
@Injectable()
export class ReportJobsAdminService {
  constructor(private readonly jobs: ReportJobRepository) {}

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
