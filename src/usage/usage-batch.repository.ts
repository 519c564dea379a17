import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../database/query-result';
import { StatusRange } from './usage.commands';
import { expandStored, StoredRecord } from './usage-stored-record';
import { NormalizedRecord, UsageType } from './usage-validation';
import { inWindow, windowParams } from './usage-window';

/** A pending batch, locked for its last processing step. */
export interface LockedBatch {
  site: string;
  usage_type: UsageType;
  records: NormalizedRecord[];
}

/** A batch to store: its accepted records (in their stored form) and, when it can stand for their `d` (SubmitUsageCommand.text), the message's JSON text. */
export interface NewBatch {
  site: string;
  usageType: UsageType;
  records: StoredRecord[];
  resourceCounts: Record<string, number>;
  text: string | Buffer | null;
}

function batchValues(batch: NewBatch): unknown[] {
  return [batch.site, batch.usageType, batch.records.length, JSON.stringify(batch.resourceCounts), JSON.stringify(batch.records), batch.text];
}

interface StoredBatch {
  usage_type: UsageType;
  records: string;
  body: string | null;
}

/** The records of a stored batch, each with every field and its `d` (from the message text when the batch keeps one). */
function storedRecords(row: StoredBatch): NormalizedRecord[] {
  const records = JSON.parse(row.records) as StoredRecord[];
  const all = row.body === null ? null : (JSON.parse(row.body) as { Records: Record<string, unknown>[] }).Records;
  return records.map((r) => expandStored(row.usage_type, r, all === null ? r.d! : all[r.n]));
}

/**
 * amie_usage_batch: one row per accepted message, holding its accepted
 * records as JSON text until a worker loads them (amie-usage.md 5.2; text,
 * so that a submission does not make PostgreSQL parse what only the loader
 * reads: migration 1763801930000), with the message's own JSON text in
 * `body` standing for each record's copy when it can, and the
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

  async insert(batch: NewBatch & { id: string }, sql: Sql = this.db): Promise<void> {
    await runRows(sql, `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      batch.id,
      ...batchValues(batch),
    ]);
  }

  /**
   * Stores a batch under a new receipt number (nextReceipt and insert in one
   * statement, so one round trip and, outside a transaction, committed when
   * it returns); gives its id. With `keyHash`, only while it is the hash of
   * the site's current key (amie_site, read in the same statement): null,
   * and nothing stored, when it is not.
   */
  async insertWithReceipt(batch: NewBatch, keyHash: string | null = null, sql: Sql = this.db): Promise<string | null> {
    const row = await runOne<{ id: string }>(
      sql,
      keyHash === null
        ? `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records, body)
           VALUES (nextval('amie_usage_receipt_seq'), $1, $2, $3, $4, $5, $6) RETURNING id::text AS id`
        : `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records, body)
           SELECT nextval('amie_usage_receipt_seq'), $1, $2, $3, $4, $5, $6
           WHERE EXISTS (SELECT 1 FROM amie_site WHERE name = $1 AND api_key_hash = $7) RETURNING id::text AS id`,
      keyHash === null ? batchValues(batch) : [...batchValues(batch), keyHash],
    );
    return row?.id ?? null;
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
    const row = await runOne<StoredBatch & { site: string }>(
      sql,
      `SELECT site, usage_type, records, body FROM amie_usage_batch WHERE id = $1 AND state = 'pending' FOR UPDATE`,
      [batchId],
    );
    return row && { site: row.site, usage_type: row.usage_type, records: storedRecords(row) };
  }

  /** Locks a batch still pending without reading its records; undefined when it is not pending. */
  async lockPendingHead(batchId: string, sql: Sql): Promise<{ site: string; usage_type: UsageType } | undefined> {
    return runOne(sql, `SELECT site, usage_type FROM amie_usage_batch WHERE id = $1 AND state = 'pending' FOR UPDATE`, [batchId]);
  }

  /** The accepted records of a batch, as stored. */
  async records(batchId: string, sql: Sql): Promise<NormalizedRecord[]> {
    const row = await runOne<StoredBatch>(sql, `SELECT usage_type, records, body FROM amie_usage_batch WHERE id = $1`, [batchId]);
    return row ? storedRecords(row) : [];
  }

  async markFailed(batchId: string, error: string, sql: Sql = this.db): Promise<void> {
    await runRows(sql, `UPDATE amie_usage_batch SET state = 'failed', processed_at = now(), last_error = $2 WHERE id = $1`, [batchId, error]);
  }
}
