import { Injectable, Inject } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { JobQueueService } from '../queue/job-queue.service';
import { LOGGER } from '../core/tokens';
import { ClearFailedCommand, StatusRange, SubmitUsageCommand } from './usage.commands';
import { microsToIso } from './usage-dates';
import { receiptSeq } from './usage-receipt';

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
    private readonly jobs: JobQueueService,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'usage' });
  }

  /**
   * 4.9 and 5.2: store the accepted records (one batch row) and the failed
   * records of a checked message (UsageMessagePipe) in one transaction, then
   * enqueue the batch, then answer.
   */
  async submit(site: string, command: SubmitUsageCommand) {
    const { usageType, accepted: valid, failed } = command;
    const resourceCounts: Record<string, number> = {};
    for (const r of valid) resourceCounts[r.r] = (resourceCounts[r.r] ?? 0) + 1;

    const { base, failedIds } = await this.db.transaction(async (m) => {
      const [{ id: base }]: { id: string }[] = await m.query(`SELECT nextval('amie_usage_receipt_seq')::text AS id`);
      if (valid.length) {
        await m.query(
          `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records) VALUES ($1, $2, $3, $4, $5, $6)`,
          [base, site, usageType, valid.length, JSON.stringify(resourceCounts), JSON.stringify(valid)],
        );
      }
      let ids: string[] = [];
      if (failed.length) {
        const seqs = failed.map((x) => receiptSeq(base, x.index));
        // A new failure of an identity replaces its older outstanding one (5.3).
        const withIdentity = failed.filter((x) => x.resource !== null && x.localRecordId !== null);
        if (withIdentity.length) {
          await m.query(
            `UPDATE amie_usage_failed_record f SET state = 'cleared', cleared_at = now()
             FROM unnest($3::text[], $4::text[]) AS x(resource, local_record_id)
             WHERE f.state = 'failed' AND f.site = $1 AND f.usage_type = $2
               AND f.resource = x.resource AND f.local_record_id = x.local_record_id`,
            [site, usageType, withIdentity.map((x) => x.resource), withIdentity.map((x) => x.localRecordId)],
          );
        }
        const rows: { id: string; seq: string }[] = await m.query(
          `INSERT INTO amie_usage_failed_record (site, usage_type, resource, local_record_id, seq, error, record, processed_at)
           SELECT $1, $2, x.resource, x.local_record_id, x.seq, x.error, x.record, now()
           FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::jsonb[]) AS x(resource, local_record_id, seq, error, record)
           ORDER BY x.seq
           RETURNING id::text, seq::text`,
          [site, usageType, failed.map((x) => x.resource), failed.map((x) => x.localRecordId), seqs, failed.map((x) => x.error), failed.map((x) => JSON.stringify(x.echo))],
        );
        const bySeq = new Map(rows.map((r) => [r.seq, r.id]));
        ids = seqs.map((s) => bySeq.get(s)!);
      }
      return { base, failedIds: ids };
    });

    if (valid.length) await this.enqueueBatch(base);

    const received = command.received;
    return {
      Message: `${received} records received, ${valid.length} queued for processing, ${failed.length} failed validation`,
      ReceivedRecordCount: received,
      QueuedRecordCount: valid.length,
      ValidationFailedRecordCount: failed.length,
      ValidationFailedRecords: failed.map((x, i) => ({ UsageType: usageType, Error: x.error, FailedRecordID: Number(failedIds[i]), ...x.echo })),
    };
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
  async status(site: string, { from, to }: StatusRange) {
    const params = [site, from === null ? null : microsToIso(from), to === null ? null : microsToIso(to)];
    const range = (column: string) => `($2::timestamptz IS NULL OR ${column} >= $2::timestamptz) AND ($3::timestamptz IS NULL OR ${column} < $3::timestamptz)`;

    const [loaded, failed, pending] = await Promise.all([
      this.db.query(
        `SELECT resource, count(*)::int AS n, coalesce(sum(charge), 0)::text AS total
         FROM amie_usage_record WHERE site = $1 AND ${range('processed_at')} GROUP BY resource`,
        params,
      ) as Promise<{ resource: string; n: number; total: string }[]>,
      this.db.query(
        `SELECT * FROM (
           SELECT coalesce(resource, '') AS resource, usage_type, error, id::text, record, processed_at,
                  count(*) OVER w AS group_count, row_number() OVER (w ORDER BY id) AS rn
           FROM amie_usage_failed_record
           WHERE site = $1 AND state = 'failed' AND ${range('processed_at')}
           WINDOW w AS (PARTITION BY coalesce(resource, ''), usage_type, error)
         ) g WHERE rn <= ${GROUP_LIMIT} ORDER BY id`,
        params,
      ) as Promise<{ resource: string; usage_type: string; error: string; id: string; record: Record<string, unknown>; processed_at: Date; group_count: string }[]>,
      this.db.query(
        `SELECT kv.key AS resource, sum(kv.value::int)::int AS n
         FROM amie_usage_batch b, jsonb_each_text(b.resource_counts) AS kv
         WHERE b.site = $1 AND b.state = 'pending' AND ${range('b.received_at')} GROUP BY kv.key`,
        params,
      ) as Promise<{ resource: string; n: number }[]>,
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
    const rows: { usage_type: string; error: string; id: string; record: Record<string, unknown>; processed_at: Date }[] = await this.db.query(
      `SELECT usage_type, error, id::text, record, processed_at FROM amie_usage_failed_record WHERE site = $1 AND state = 'failed' ORDER BY id`,
      [site],
    );
    const list = rows.map(failedEntry);
    return { ValidationFailedRecords: list, FailedRecordCount: list.length };
  }

  /** 8: every outstanding failure of the site, or the listed ids (none clears nothing). */
  async clearFailed(site: string, command: ClearFailedCommand) {
    let cleared = 0;
    if (command.all) {
      const rows: unknown[] = await this.db.query(
        `UPDATE amie_usage_failed_record SET state = 'cleared', cleared_at = now() WHERE site = $1 AND state = 'failed' RETURNING id`,
        [site],
      );
      cleared = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : rows.length;
    } else if (command.ids.length) {
      const rows: unknown[] = await this.db.query(
        `UPDATE amie_usage_failed_record SET state = 'cleared', cleared_at = now()
         WHERE site = $1 AND state = 'failed' AND id = ANY($2::bigint[]) RETURNING id`,
        [site, command.ids],
      );
      cleared = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : rows.length;
    }
    return { Message: `${cleared} failed records cleared`, ClearedRecordCount: cleared };
  }
}

function failedEntry(row: { usage_type: string; error: string; id: string; record: Record<string, unknown>; processed_at: Date }): FailedEntry {
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
