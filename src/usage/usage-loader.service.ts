import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UsageBatchRepository } from './usage-batch.repository';
import { UsageFailedRecordRepository } from './usage-failed-record.repository';
import { receiptSeq } from './usage-receipt';
import { UsageRecordRepository } from './usage-record.repository';
import { echoRecord } from './usage-validation';

/** The error of records whose batch failed every processing attempt (amie-usage.md 5.5). */
export const PROCESSING_ERROR = 'internal processing error';

/**
 * Loads accepted batches into the ledger (amie-usage.md 5.2-5.3). Called by
 * the queue worker; safe to run twice, concurrently or out of order.
 */
@Injectable()
export class UsageLoaderService {
  constructor(
    private readonly db: DataSource,
    private readonly batches: UsageBatchRepository,
    private readonly records: UsageRecordRepository,
    private readonly failures: UsageFailedRecordRepository,
  ) {}

  /** Applies a pending batch (one statement: UsageRecordRepository.loadBatch); null when it was not pending. */
  async loadBatch(batchId: string): Promise<{ loaded: number } | null> {
    const loaded = await this.records.loadBatch(batchId);
    return loaded === null ? null : { loaded };
  }

  /**
   * After the last attempt (amie-usage.md 5.2, point 3): the batch's records
   * become failed records with `internal processing error`, visible in status
   * and the listing, so the site can resubmit them. A loaded older version of
   * each stays loaded; older failures of the same identities are cleared.
   */
  async failBatch(batchId: string, error: Error): Promise<void> {
    await this.db.transaction(async (m) => {
      const batch = await this.batches.lockPending(batchId, m);
      if (!batch) return;
      const { site, usage_type: type, records } = batch;
      const seqs = records.map((r) => receiptSeq(batchId, r.n));
      await this.failures.clearOlder(site, type, records.map((r, i) => ({ resource: r.r, localRecordId: r.i, seq: seqs[i] })), m);
      await this.failures.insert(
        site,
        type,
        records.map((r, i) => ({ resource: r.r, localRecordId: r.i, seq: seqs[i], error: PROCESSING_ERROR, record: echoRecord(type, r.d) })),
        m,
      );
      await this.batches.markFailed(batchId, error.message.slice(0, 2000), m);
    });
  }
}
