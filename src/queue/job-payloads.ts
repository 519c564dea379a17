/**
 * Every job name and its payload. Feature modules add their jobs to this
 * interface by declaration merging in their `*.feature.ts`:
 *
 *   declare module '../queue/job-payloads' {
 *     interface JobPayloads { 'usage.load-batch': { batchId: string } }
 *   }
 *
 * Payloads carry only ids: the database is the source of truth for the work
 * itself (amie-usage.md 5.2).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface JobPayloads {}
export type JobName = keyof JobPayloads & string;

/** The one BullMQ queue; its Redis keys start with QUEUE_PREFIX. */
export const QUEUE_NAME = 'jobs';

/**
 * Retries with exponential backoff from QUEUE_RETRY_DELAY_MS (default 1 s:
 * 1, 2, 4, ... 64 s, about two minutes in all).
 */
export const JOB_ATTEMPTS = 8;
