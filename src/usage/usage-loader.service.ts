import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { UsageBatchRepository } from './usage-batch.repository';
import { UsageFailedRecordRepository } from './usage-failed-record.repository';
import { receiptSeq } from './usage-receipt';
import { LoadedBatch, UsageRecordRepository } from './usage-record.repository';
import { echoRecord, NormalizedRecord, UsageType } from './usage-validation';

/** The error of records whose batch failed every processing attempt (amie-usage.md 5.5). */
export const PROCESSING_ERROR = 'internal processing error';

/** Told of each batch once its load has committed (UsageLoaderService.onLoaded). */
export type BatchLoadedListener = (batch: LoadedBatch) => void;

/** A pending batch as a load filter sees it, inside the load's transaction (its row locked). */
export interface PendingBatch {
  id: string;
  site: string;
  usageType: UsageType;
  /** Its accepted records, read on first call (a filter with nothing to check never reads them). */
  records(): Promise<NormalizedRecord[]>;
}

/** A record a load filter refuses: its index in the message (`NormalizedRecord.n`) and its processing error (amie-usage.md 5.5). */
export interface RecordRefusal {
  n: number;
  error: string;
}

/**
 * Runs inside the load's transaction, before the upsert, on the
 * transaction's manager (UsageLoaderService.beforeLoad).
 */
export type LoadFilter = (batch: PendingBatch, m: EntityManager) => Promise<RecordRefusal[]>;

/**
 * Runs inside the load's transaction, after the upsert, on the transaction's
 * manager (UsageLoaderService.afterLoad). The versions this load applied are
 * the rows of `amie_usage_record` whose `batch_id` is the batch's id; a hook
 * that throws rolls the whole load back (the job retries it).
 */
export type LoadHook = (batch: PendingBatch, m: EntityManager) => Promise<void>;

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
  private readonly filters: LoadFilter[] = [];
  private readonly hooks: LoadHook[] = [];

  /**
   * Calls `listener` after each load that applied a batch, with its site and
   * counts. One of the module's two outward seams (with beforeLoad):
   * whoever watches loads (the reports' ingest counters) subscribes here, so
   * usage imports none of them.
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
    const batch = this.filters.length || this.hooks.length ? await this.loadFiltered(batchId) : await this.records.loadBatch(batchId);
    if (batch === null) return null;
    for (const listener of this.listeners) listener(batch);
    return { loaded: batch.loaded };
  }

  /**
   * Adds a filter that may refuse records of a batch during processing
   * (amie-usage.md 5.2: failures found while loading, such as the late-data
   * horizon of the reports, 4.6). The module's second outward seam, like
   * onLoaded: the reports register their rule here, so usage imports none of
   * them. A refused record becomes a failed record with the filter's error
   * in the load's transaction, replacing older outstanding failures of its
   * identity; it is left out of the upsert, so a loaded older version stays
   * loaded; the batch's other records load as usual.
   */
  beforeLoad(filter: LoadFilter): void {
    this.filters.push(filter);
  }

  /**
   * Adds a hook told of each applied batch inside the load's transaction,
   * after the upsert (the reports' budget debits, reports.md 6.2: a record's
   * debit commits with its version, so a retried load never posts twice and
   * a failed one posts nothing). The module's third outward seam, like
   * beforeLoad: usage imports none of its users.
   */
  afterLoad(hook: LoadHook): void {
    this.hooks.push(hook);
  }

  /** The load with filters or hooks: one transaction locking the pending batch, the filters' refusals stored as failures, the upsert without them, then the hooks. */
  private async loadFiltered(batchId: string): Promise<LoadedBatch | null> {
    return this.db.transaction(async (m) => {
      const head = await this.batches.lockPendingHead(batchId, m);
      if (!head) return null;
      let records: Promise<NormalizedRecord[]> | undefined;
      const pending: PendingBatch = { id: batchId, site: head.site, usageType: head.usage_type, records: () => (records ??= this.batches.records(batchId, m)) };
      const refusals = new Map<number, string>();
      for (const filter of this.filters) {
        for (const refusal of await filter(pending, m)) if (!refusals.has(refusal.n)) refusals.set(refusal.n, refusal.error);
      }
      const refused = refusals.size ? (await pending.records()).filter((r) => refusals.has(r.n)) : [];
      if (refused.length) {
        const seqs = refused.map((r) => receiptSeq(batchId, r.n));
        await this.failures.clearOlder(head.site, head.usage_type, refused.map((r, i) => ({ resource: r.r, localRecordId: r.i, seq: seqs[i] })), m);
        await this.failures.insert(
          head.site,
          head.usage_type,
          refused.map((r, i) => ({ resource: r.r, localRecordId: r.i, seq: seqs[i], error: refusals.get(r.n)!, record: echoRecord(head.usage_type, r.d) })),
          m,
        );
      }
      const loaded = await this.records.loadBatch(batchId, m, refused.map((r) => r.n));
      if (loaded) for (const hook of this.hooks) await hook(pending, m);
      return loaded;
    });
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
