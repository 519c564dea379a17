import { ReportsInput } from '../../window/reports-input';
import { CursorParam, LimitParam } from '../../detail/paging';

/** `GET /reports/projects` (reports.md §3.3): paged (§1.6) for every role but `user`. */
@ReportsInput()
export class ProjectsQueryDto {
  @LimitParam()
  limit?: number;

  @CursorParam()
  cursor?: string;
}
