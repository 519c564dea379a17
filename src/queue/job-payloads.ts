/**
 * Every job name and its payload, declared once. Payloads carry only ids: the
 * database is the source of truth for the work itself (amie-usage.md 5.2).
 */
export interface JobPayloads {
  /** Load one accepted AMIE message (amie_usage_batch row) into the ledger. */
  'usage.load-batch': { batchId: string };
  /** Recompute one project's quota limits from its approval in force (allocations.md §10). */
  'allocations.apply-quotas': { projectId: string };
}
export type JobName = keyof JobPayloads;

/** The one BullMQ queue; its Redis keys start with QUEUE_PREFIX. */
export const QUEUE_NAME = 'jobs';

/**
 * Retries with exponential backoff from QUEUE_RETRY_DELAY_MS (default 1 s:
 * 1, 2, 4, ... 64 s, about two minutes in all).
 */
export const JOB_ATTEMPTS = 8;
