import { Feature } from '../../core/feature';
import { ReportJob } from './report-job.entity';
import { REPORT_JOBS_ERROR_STATUS } from './report-jobs.errors';

declare module '../../queue/job-payloads' {
  interface JobPayloads {
    /** Run (or resume) one report job (report_job row) from its stored cursor (reports.md 4.7). */
    'reports.run-job': { jobId: string };
  }
}

/** Report jobs: the job table, its error codes and the one queue job that runs every kind. */
export const REPORT_JOBS_FEATURE: Feature = {
  name: 'report-jobs',
  entities: [ReportJob],
  errorStatus: REPORT_JOBS_ERROR_STATUS,
  jobs: ['reports.run-job'],
};
