import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RECORDS_PER_RECEIPT } from './usage-receipt';
import { echoRecord, NormalizedRecord, UsageType } from './usage-validation';

/** The error of records whose batch failed every processing attempt (amie-usage.md 5.5). */
export const PROCESSING_ERROR = 'internal processing error';

/**
 * Loads accepted batches into the ledger (amie-usage.md 5.2-5.3). Called by
 * the queue worker; safe to run twice, concurrently or out of order.
 */
@Injectable()
export class UsageLoaderService {
  constructor(private readonly db: DataSource) {}

  /**
   * One statement, so one transaction: lock the batch row if still pending
   * (a duplicate delivery then finds nothing to do), upsert all its records
   * with a batched unnest-style insert whose WHERE applies a version only over
   * a lower receipt sequence ("latest received wins" whatever order workers
   * finish in), clear every older outstanding failure of each applied
   * identity, and mark the batch loaded. Rows are inserted in key order so
   * that concurrent batches lock shared identities in the same order.
   */
  async loadBatch(batchId: string): Promise<{ loaded: number } | null> {
    const result: unknown[] = await this.db.query(
      `
      WITH b AS (
        SELECT id, site, usage_type, records FROM amie_usage_batch WHERE id = $1 AND state = 'pending' FOR UPDATE
      ), src AS (
        SELECT b.site, b.usage_type, x.e->>'r' AS resource, x.e->>'i' AS local_record_id,
               b.id * ${RECORDS_PER_RECEIPT} + (x.e->>'n')::bigint AS seq, b.id AS batch_id,
               x.e->>'p' AS local_project_id, x.e->>'u' AS username, (x.e->>'c')::numeric AS charge,
               x.e->>'a' AS adjustment_type, (x.e->>'s')::timestamptz AS usage_start, (x.e->>'e')::timestamptz AS usage_end,
               x.e->'d' AS record
        FROM b, jsonb_array_elements(b.records) AS x(e)
      ), up AS (
        INSERT INTO amie_usage_record AS cur
          (site, usage_type, resource, local_record_id, seq, batch_id, local_project_id, username, charge,
           adjustment_type, usage_start, usage_end, record, processed_at)
        SELECT site, usage_type, resource, local_record_id, seq, batch_id, local_project_id, username, charge,
               adjustment_type, usage_start, usage_end, record, now()
        FROM src ORDER BY resource, local_record_id
        ON CONFLICT ON CONSTRAINT amie_usage_record_pk DO UPDATE SET
          seq = EXCLUDED.seq, batch_id = EXCLUDED.batch_id, local_project_id = EXCLUDED.local_project_id,
          username = EXCLUDED.username, charge = EXCLUDED.charge, adjustment_type = EXCLUDED.adjustment_type,
          usage_start = EXCLUDED.usage_start, usage_end = EXCLUDED.usage_end, record = EXCLUDED.record,
          processed_at = EXCLUDED.processed_at
        WHERE cur.seq < EXCLUDED.seq
        RETURNING cur.site, cur.usage_type, cur.resource, cur.local_record_id, cur.seq
      ), cleared AS (
        UPDATE amie_usage_failed_record f SET state = 'cleared', cleared_at = now()
        FROM up
        WHERE f.state = 'failed' AND f.site = up.site AND f.usage_type = up.usage_type
          AND f.resource = up.resource AND f.local_record_id = up.local_record_id AND f.seq < up.seq
        RETURNING f.id
      )
      UPDATE amie_usage_batch
      SET state = 'loaded', processed_at = now(), last_error = NULL,
          loaded_count = (SELECT count(*) FROM up)
      WHERE id IN (SELECT id FROM b)
      RETURNING loaded_count`,
      [batchId],
    );
    // TypeORM answers an UPDATE with [rows, rowCount].
    const rows = (Array.isArray(result[0]) ? result[0] : result) as { loaded_count: number }[];
    return rows.length ? { loaded: rows[0].loaded_count } : null;
  }

  /**
   * After the last attempt (amie-usage.md 5.2, point 3): the batch's records
   * become failed records with `internal processing error`, visible in status
   * and the listing, so the site can resubmit them. A loaded older version of
   * each stays loaded; older failures of the same identities are cleared.
   */
  async failBatch(batchId: string, error: Error): Promise<void> {
    await this.db.transaction(async (m) => {
      const batches: { site: string; usage_type: UsageType; records: NormalizedRecord[] }[] = await m.query(
        `SELECT site, usage_type, records FROM amie_usage_batch WHERE id = $1 AND state = 'pending' FOR UPDATE`,
        [batchId],
      );
      if (!batches.length) return;
      const { site, usage_type: type, records } = batches[0];
      const seqs = records.map((r) => (BigInt(batchId) * BigInt(RECORDS_PER_RECEIPT) + BigInt(r.n)).toString());
      await m.query(
        `UPDATE amie_usage_failed_record f SET state = 'cleared', cleared_at = now()
         FROM unnest($3::text[], $4::text[], $5::bigint[]) AS x(resource, local_record_id, seq)
         WHERE f.state = 'failed' AND f.site = $1 AND f.usage_type = $2
           AND f.resource = x.resource AND f.local_record_id = x.local_record_id AND f.seq < x.seq`,
        [site, type, records.map((r) => r.r), records.map((r) => r.i), seqs],
      );
      await m.query(
        `INSERT INTO amie_usage_failed_record (site, usage_type, resource, local_record_id, seq, error, record, processed_at)
         SELECT $1, $2, x.resource, x.local_record_id, x.seq, $3, x.record, now()
         FROM unnest($4::text[], $5::text[], $6::bigint[], $7::jsonb[]) AS x(resource, local_record_id, seq, record)
         ORDER BY x.seq`,
        [
          site,
          type,
          PROCESSING_ERROR,
          records.map((r) => r.r),
          records.map((r) => r.i),
          seqs,
          records.map((r) => JSON.stringify(echoRecord(type, r.d))),
        ],
      );
      await m.query(`UPDATE amie_usage_batch SET state = 'failed', processed_at = now(), last_error = $2 WHERE id = $1`, [
        batchId,
        error.message.slice(0, 2000),
      ]);
    });
  }
}
