import { Injectable } from '@nestjs/common';
import { Principal } from '../../auth/principal';
import { AppConfig } from '../../config/app-config';
import { decodeCursor, encodeCursor, queryDigest } from '../paging';
import { invalid } from '../window/reports-input';
import { ProjectsQueryDto } from './dto/projects-query.dto';
import { PeriodsAnswerView, ProjectsAnswerView } from './dto/projects.views';
import { ProjectsRepository } from './projects.repository';
import { PeriodsRepository } from '../rating/periods/periods.repository';

const ROUTE = 'projects';

/**
 * `GET /reports/projects` (§3.3) and `GET /reports/periods` (§3.4), whose
 * states, closes and automatic closes come from the periods work (§5.2).
 */
@Injectable()
export class ProjectsService {
  constructor(
    private readonly config: AppConfig,
    private readonly repository: ProjectsRepository,
    private readonly closing: PeriodsRepository,
  ) {}

  /**
   * A `user` gets its own projects, with or without data, in one answer
   * (`limit` and `cursor` do not apply); the other roles every project with
   * a usage cell or a current allocation, paged by project_id.
   */
  async projects(principal: Principal, query: ProjectsQueryDto): Promise<ProjectsAnswerView> {
    const head = { role: principal.role, time_zone: this.config.reportTimeZone };
    if (principal.role === 'user') {
      const own = [...new Set(principal.projectIds)];
      return { ...head, projects: await this.repository.these(own), next_cursor: null };
    }
    const digest = queryDigest(query, ROUTE);
    const after = query.cursor !== undefined ? projectKey(decodeCursor(query.cursor, digest, 1)) : null;
    const limit = query.limit ?? 1000;
    const rows = await this.repository.visible(after, limit + 1);
    const more = rows.length > limit;
    const projects = more ? rows.slice(0, limit) : rows;
    return { ...head, projects, next_cursor: more ? encodeCursor(digest, [projects[projects.length - 1].project_id]) : null };
  }

  /** From the first month with data (for a `user`, data of its projects) to the current month of REPORT_TIME_ZONE. */
  async periods(principal: Principal): Promise<PeriodsAnswerView> {
    const scope = principal.role === 'user' ? [...principal.projectIds] : undefined;
    const rows = await this.repository.periods(this.config.reportTimeZone, scope);
    const states = new Map(
      (await this.closing.describe(rows.map((row) => `${row.period}-01`), this.config.periodAutoCloseDays, this.config.reportTimeZone)).map((s) => [s.month.slice(0, 7), s]),
    );
    return {
      periods: rows.map((row) => {
        const s = states.get(row.period)!;
        return { ...row, state: s.state, closed_at: s.closed_at, closed_by: s.closed_by, auto_close_at: s.auto_close_at };
      }),
    };
  }
}

/** The project id a cursor carries: a string without NUL (a forged key never reaches the database). */
function projectKey(key: unknown[]): string {
  const [id] = key;
  if (typeof id !== 'string' || id.includes('\u0000')) throw invalid('cursor', 'is not a cursor of this report');
  return id;
}
