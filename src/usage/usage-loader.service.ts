import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UsageBatchRepository } from './usage-batch.repository';
import { UsageFailedRecordRepository } from './usage-failed-record.repository';
import { receiptSeq } from './usage-receipt';
import { LoadedBatch, UsageRecordRepository } from './usage-record.repository';
import { echoRecord } from './usage-validation';

/** The error of records whose batch failed every processing attempt (amie-usage.md 5.5). */
export const PROCESSING_ERROR = 'internal processing error';

/** Told of each batch once its load has committed (UsageLoaderService.onLoaded). */
export type BatchLoadedListener = (batch: LoadedBatch) => void;

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

  private readonly listeners: BatchLoadedListener[] = [];

  /**
   * Calls `listener` after each load that applied a batch, with its site and
   * counts. The module's one outward seam: whoever watches loads (the
   * reports' ingest counters) subscribes here, so usage imports none of them.
   */
  onLoaded(listener: BatchLoadedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Applies a pending batch (one statement: UsageRecordRepository.loadBatch);
   * null when it was not pending. Listeners are told after the statement has
   * committed, and only by the call that moved the batch out of `pending`: a
   * retried or repeated job finds it loaded and tells no one again.
   */
  async loadBatch(batchId: string): Promise<{ loaded: number } | null> {
    const batch = await this.records.loadBatch(batchId);
    if (batch === null) return null;
    for (const listener of this.listeners) listener(batch);
    return { loaded: batch.loaded };
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
