import { Feature } from '../core/feature';
import { UsageBatch } from './usage-batch.entity';
import { UsageFailedRecord } from './usage-failed-record.entity';
import { UsageRecord } from './usage-record.entity';
import { USAGE_ERROR_STATUS } from './usage.errors';

declare module '../queue/job-payloads' {
  interface JobPayloads {
    /** Load one accepted AMIE message (amie_usage_batch row) into the ledger. */
    'usage.load-batch': { batchId: string };
  }
}

export const USAGE_FEATURE: Feature = {
  name: 'usage',
  entities: [UsageBatch, UsageRecord, UsageFailedRecord],
  errorStatus: USAGE_ERROR_STATUS,
  jobs: ['usage.load-batch'],
};
