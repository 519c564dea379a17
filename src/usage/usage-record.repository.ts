import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../database/query-result';
import { StatusRange } from './usage.commands';
import { RECORDS_PER_RECEIPT } from './usage-receipt';
import { storedFieldSql } from './usage-stored-record';
import { inWindow, windowParams } from './usage-window';

/** A field of a stored record `x.e` of batch `b` whose record as received is `m.record` (usage-stored-record.ts). */
const field = (key: Parameters<typeof storedFieldSql>[0]) => storedFieldSql(key, 'x.e', 'm.record', 'b.usage_type');

/**
 * amie_usage_record: the ledger, one row per identity (site, UsageType,
 * Resource, LocalRecordID) holding its current version (amie-usage.md 5.3).
 */
/** What one load applied (UsageRecordRepository.loadBatch). */
export interface LoadedBatch {
  site: string;
  loaded: number;
  superseded: number;
  /** Records a load filter refused (UsageLoaderService.beforeLoad), stored as failed records in the load's transaction. */
  refused: number;
}

@Injectable()
export class UsageRecordRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Loads one pending batch, in one statement and so one transaction: lock
   * the batch row if still pending (a duplicate delivery then finds nothing
   * to do), upsert all its records with a batched insert from the stored
   * JSON text (parsed here, once; a field the stored form leaves out is read
   * from the record itself, usage-stored-record.ts) whose WHERE applies a version only over a lower receipt sequence
   * ("latest received wins" whatever order workers finish in), clear every
   * older outstanding failure of each applied identity, and mark the batch
   * loaded. Rows are inserted in key order so that concurrent batches lock
   * shared identities in the same order. Returns the batch's site, how
   * many of its versions were applied (`loaded`) and how many versions lost
   * to a later received version of the same record (`superseded`: the
   * batch's versions not applied, plus the stored versions the applied ones
   * replaced: a row the upsert updated rather than inserted has the
   * statement's transaction as its `xmax`, where an inserted one has 0, so no
   * second look-up of each identity is needed), or null when the batch was
   * not pending. Records whose index is in `refused` are left out (a load
   * filter failed them, UsageLoaderService.beforeLoad): neither loaded nor
   * superseded.
   */
  async loadBatch(batchId: string, sql: Sql = this.db, refused: number[] = []): Promise<LoadedBatch | null> {
    const row = await runOne<LoadedBatch>(
      sql,
      `
      WITH b AS (
        SELECT id, site, usage_type, records::jsonb AS records, body::jsonb->'Records' AS message_records
        FROM amie_usage_batch WHERE id = $1 AND state = 'pending' FOR UPDATE
      ), src AS (
        SELECT b.site, b.usage_type, x.e->>'r' AS resource, x.e->>'i' AS local_record_id,
               b.id * ${RECORDS_PER_RECEIPT} + (x.e->>'n')::bigint AS seq, b.id AS batch_id,
               ${field('p')} AS local_project_id, ${field('u')} AS username, (${field('c')})::numeric AS charge,
               ${field('a')} AS adjustment_type, (${field('s')})::timestamptz AS usage_start, (${field('e')})::timestamptz AS usage_end,
               m.record
        FROM b, jsonb_array_elements(b.records) AS x(e),
             LATERAL (SELECT coalesce(x.e->'d', b.message_records->((x.e->>'n')::int)) AS record) m
        WHERE NOT ((x.e->>'n')::int = ANY ($2::int[]))
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
        RETURNING cur.site, cur.usage_type, cur.resource, cur.local_record_id, cur.seq, cur.xmax <> '0'::xid AS replaced
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
      RETURNING site, loaded_count AS loaded, cardinality($2::int[]) AS refused,
        record_count - cardinality($2::int[]) - loaded_count
          + (SELECT count(*) FILTER (WHERE up.replaced) FROM up)::int AS superseded`,
      [batchId, refused],
    );
    return row ?? null;
  }

  /** LoadedRecordCount and TotalCharge (exact decimal text) per resource, by processing time (5.4). */
  async loadedByResource(site: string, range: StatusRange, sql: Sql = this.db): Promise<{ resource: string; n: number; total: string }[]> {
    return runRows(
      sql,
      `SELECT resource, count(*)::int AS n, coalesce(sum(charge), 0)::text AS total
       FROM amie_usage_record WHERE site = $1 AND ${inWindow('processed_at')} GROUP BY resource`,
      windowParams(site, range),
    );
  }
}
