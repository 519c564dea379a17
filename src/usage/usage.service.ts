import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { LOGGER } from '../core/tokens';
import { JobQueueService } from '../queue/job-queue.service';
import { ClearFailedCommand, StatusRange, SubmitUsageCommand } from './usage.commands';
import { NewBatch, UsageBatchRepository } from './usage-batch.repository';
import { FailedRecordRow, UsageFailedRecordRepository } from './usage-failed-record.repository';
import { receiptSeq } from './usage-receipt';
import { UsageRecordRepository } from './usage-record.repository';

/** At most this many records per error group in status (amie-usage.md 6). */
const GROUP_LIMIT = 1000;
/** How long a submission waits for Redis before answering anyway (the batch is already stored). */
const ENQUEUE_TIMEOUT_MS = 5000;

export type FailedEntry = Record<string, unknown> & { UsageType: string; Error: string; FailedRecordID: number };

export const batchJobId = (batchId: string) => `usage-batch-${batchId}`;

/** AMIE usage (amie-usage.md): submission, status, failed records. Every call is scoped to one site. */
@Injectable()
export class UsageService {
  private readonly log: Logger;

  constructor(
    private readonly db: DataSource,
    private readonly batches: UsageBatchRepository,
    private readonly records: UsageRecordRepository,
    private readonly failures: UsageFailedRecordRepository,
    private readonly jobs: JobQueueService,
    private readonly auth: AuthService,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'usage' });
  }

  /**
   * 4.9 and 5.2: store the accepted records (one batch row) and the failed
   * records of a checked message (UsageMessagePipe) in one transaction (one
   * statement when nothing failed), then enqueue the batch, then answer.
   */
  async submit(site: string, command: SubmitUsageCommand, keyHash: string | null = null) {
    const { usageType, accepted, failed } = command;
    const resourceCounts: Record<string, number> = {};
    for (const r of accepted) resourceCounts[r.r] = (resourceCounts[r.r] ?? 0) + 1;

    // A site key the guard took from memory (`keyHash`) is held to the database by the write: in the usual
    // message's statement itself, before the transaction of one with failures (SiteKeyToCheck).
    if (failed.length && keyHash !== null) await this.auth.confirmSiteKey(site, keyHash);
    // The usual message, every record accepted: one statement, committed before the answer.
    const { base, failedIds } = !failed.length
      ? { base: await this.insertChecked({ site, usageType, records: accepted, resourceCounts, text: command.text }, keyHash), failedIds: [] as string[] }
      : await this.storeWithFailures(site, command, resourceCounts);

    if (accepted.length) await this.enqueueBatch(base);

    return {
      Message: `${command.received} records received, ${accepted.length} queued for processing, ${failed.length} failed validation`,
      ReceivedRecordCount: command.received,
      QueuedRecordCount: accepted.length,
      ValidationFailedRecordCount: failed.length,
      ValidationFailedRecords: failed.map((x, i) => ({ UsageType: usageType, Error: x.error, FailedRecordID: Number(failedIds[i]), ...x.echo })),
    };
  }

  /** The batch under a new receipt number, in one statement that also holds `keyHash` (when given) to the site's current key. */
  private async insertChecked(batch: NewBatch, keyHash: string | null): Promise<string> {
    const id = await this.batches.insertWithReceipt(batch, keyHash);
    return id ?? this.auth.refuseStaleSiteKey(batch.site, keyHash!);
  }

  /** A message with failures: its receipt number, the batch (if any record was accepted) and the failed records, in one transaction. */
  private storeWithFailures(site: string, command: SubmitUsageCommand, resourceCounts: Record<string, number>): Promise<{ base: string; failedIds: string[] }> {
    const { usageType, accepted, failed } = command;
    return this.db.transaction(async (m) => {
      const base = await this.batches.nextReceipt(m);
      if (accepted.length) await this.batches.insert({ id: base, site, usageType, records: accepted, resourceCounts, text: command.text }, m);
      const seqs = failed.map((x) => receiptSeq(base, x.index));
      // A new failure of an identity replaces its older outstanding one (5.3).
      const identities = failed.flatMap((x, i) =>
        x.resource !== null && x.localRecordId !== null ? [{ resource: x.resource, localRecordId: x.localRecordId, seq: seqs[i] }] : [],
      );
      await this.failures.clearOlder(site, usageType, identities, m);
      const ids = await this.failures.insert(
        site,
        usageType,
        failed.map((x, i) => ({ resource: x.resource, localRecordId: x.localRecordId, seq: seqs[i], error: x.error, record: x.echo })),
        m,
      );
      return { base, failedIds: seqs.map((s) => ids.get(s)!) };
    });
  }

  /**
   * The batch is already committed, so a Redis that does not answer in time
   * loses nothing: the sweeper enqueues the batch later.
   */
  async enqueueBatch(batchId: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.jobs.enqueue('usage.load-batch', { batchId }, { jobId: batchJobId(batchId) }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_TIMEOUT_MS))),
      ]);
    } catch (error) {
      this.log.warn({ batch: batchId, err: { message: (error as Error).message } }, 'enqueue failed; the sweeper will retry');
    } finally {
      clearTimeout(timer);
    }
  }

  /** 5.4-5.5 and 6. */
  async status(site: string, range: StatusRange) {
    const [loaded, failed, pending] = await Promise.all([
      this.records.loadedByResource(site, range),
      this.failures.statusGroups(site, range, GROUP_LIMIT),
      this.batches.pendingByResource(site, range),
    ]);

    interface Group { Error: string; UsageType: string; RecordCount: number; Records: FailedEntry[] }
    interface Entry { Resource: string; LoadedRecordCount: number; FailedJobCount: number; TotalCharge: number; PendingRecordCount: number; Errors: Group[] }
    const entries = new Map<string, Entry & { groups: Map<string, Group> }>();
    const entry = (resource: string) => {
      let e = entries.get(resource);
      if (!e) {
        e = { Resource: resource, LoadedRecordCount: 0, FailedJobCount: 0, TotalCharge: 0, PendingRecordCount: 0, Errors: [], groups: new Map() };
        entries.set(resource, e);
      }
      return e;
    };
    for (const row of loaded) {
      const e = entry(row.resource);
      e.LoadedRecordCount = row.n;
      e.TotalCharge = Number(row.total);
    }
    for (const row of pending) entry(row.resource).PendingRecordCount = row.n;
    for (const row of failed) {
      const e = entry(row.resource);
      const key = `${row.error}\u0000${row.usage_type}`;
      let group = e.groups.get(key);
      if (!group) {
        group = { Error: row.error, UsageType: row.usage_type, RecordCount: Number(row.group_count), Records: [] };
        e.groups.set(key, group);
        e.FailedJobCount += group.RecordCount;
      }
      group.Records.push(failedEntry(row));
    }
    return [...entries.values()]
      .sort((a, b) => compare(a.Resource, b.Resource))
      .map(({ groups, ...e }) => ({
        ...e,
        Errors: [...groups.values()].sort((a, b) => compare(a.Error, b.Error) || compare(a.UsageType, b.UsageType)),
      }));
  }

  /** 7: every outstanding failed record of the site, by FailedRecordID. */
  async failedRecords(site: string) {
    const list = (await this.failures.listOutstanding(site)).map(failedEntry);
    return { ValidationFailedRecords: list, FailedRecordCount: list.length };
  }

  /** 8: every outstanding failure of the site, or the listed ids (none clears nothing). */
  async clearFailed(site: string, command: ClearFailedCommand) {
    const cleared = command.all ? await this.failures.clearAll(site) : await this.failures.clearIds(site, command.ids);
    return { Message: `${cleared} failed records cleared`, ClearedRecordCount: cleared };
  }
}

function failedEntry(row: FailedRecordRow): FailedEntry {
  return {
    UsageType: row.usage_type,
    Error: row.error,
    FailedRecordID: Number(row.id),
    ...row.record,
    FailedAt: new Date(row.processed_at).toISOString(),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
