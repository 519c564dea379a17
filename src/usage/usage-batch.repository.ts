import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../database/query-result';
import { StatusRange } from './usage.commands';
import { NormalizedRecord, UsageType } from './usage-validation';
import { inWindow, windowParams } from './usage-window';

/** A pending batch, locked for its last processing step. */
export interface LockedBatch {
  site: string;
  usage_type: UsageType;
  records: NormalizedRecord[];
}

/**
 * amie_usage_batch: one row per accepted message, holding its accepted
 * records as JSON until a worker loads them (amie-usage.md 5.2), and the
 * receipt sequence (5.3). The loading statement itself, which also writes
 * the ledger, is UsageRecordRepository.loadBatch.
 */
@Injectable()
export class UsageBatchRepository {
  constructor(private readonly db: DataSource) {}

  /** The message's receipt number: its id, and the base of its records' sequences (usage-receipt.ts). */
  async nextReceipt(sql: Sql = this.db): Promise<string> {
    const row = await runOne<{ id: string }>(sql, `SELECT nextval('amie_usage_receipt_seq')::text AS id`);
    return row!.id;
  }

  async insert(
    batch: { id: string; site: string; usageType: UsageType; records: NormalizedRecord[]; resourceCounts: Record<string, number> },
    sql: Sql = this.db,
  ): Promise<void> {
    await runRows(
      sql,
      `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records) VALUES ($1, $2, $3, $4, $5, $6)`,
      [batch.id, batch.site, batch.usageType, batch.records.length, JSON.stringify(batch.resourceCounts), JSON.stringify(batch.records)],
    );
  }

  /** PendingRecordCount per resource: records of batches still pending, by receipt time (5.4). */
  async pendingByResource(site: string, range: StatusRange, sql: Sql = this.db): Promise<{ resource: string; n: number }[]> {
    return runRows(
      sql,
      `SELECT kv.key AS resource, sum(kv.value::int)::int AS n
       FROM amie_usage_batch b, jsonb_each_text(b.resource_counts) AS kv
       WHERE b.site = $1 AND b.state = 'pending' AND ${inWindow('b.received_at')} GROUP BY kv.key`,
      windowParams(site, range),
    );
  }

  /** Ids of batches pending for at least `minAgeSeconds`, oldest first (the sweeper's work list). */
  async pendingIds(minAgeSeconds: number, limit: number, sql: Sql = this.db): Promise<string[]> {
    const rows = await runRows<{ id: string }>(
      sql,
      `SELECT id::text FROM amie_usage_batch WHERE state = 'pending' AND received_at <= now() - make_interval(secs => $1) ORDER BY id LIMIT $2`,
      [minAgeSeconds, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Locks a batch still pending; undefined when it is not (loaded, failed, or unknown). */
  async lockPending(batchId: string, sql: Sql): Promise<LockedBatch | undefined> {
    return runOne<LockedBatch>(sql, `SELECT site, usage_type, records FROM amie_usage_batch WHERE id = $1 AND state = 'pending' FOR UPDATE`, [batchId]);
  }

  async markFailed(batchId: string, error: string, sql: Sql = this.db): Promise<void> {
    await runRows(sql, `UPDATE amie_usage_batch SET state = 'failed', processed_at = now(), last_error = $2 WHERE id = $1`, [batchId, error]);
  }
}
