/** Error codes of the report jobs routes (reports.md 4.7). */
export enum ReportJobsError {
  NotFound = 'report_jobs.not_found',
  Finished = 'report_jobs.finished',
}

export const REPORT_JOBS_ERROR_STATUS: Record<ReportJobsError, number> = {
  [ReportJobsError.NotFound]: 404,
  [ReportJobsError.Finished]: 409,
};
