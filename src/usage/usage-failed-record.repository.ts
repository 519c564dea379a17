import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runRows, Sql } from '../database/query-result';
import { StatusRange } from './usage.commands';
import { UsageType } from './usage-validation';
import { inWindow, windowParams } from './usage-window';

/** An outstanding failed record as stored: the echo of 4.9 is `record`. */
export interface FailedRecordRow {
  usage_type: string;
  error: string;
  id: string;
  record: Record<string, unknown>;
  processed_at: Date;
}

/** A failed record in a status error group, with its group's full size (5.5, 6). */
export interface FailedGroupRow extends FailedRecordRow {
  resource: string;
  group_count: string;
}

/** A failure to store; `resource`/`localRecordId` null when the record has no usable identity (5.3). */
export interface NewFailure {
  resource: string | null;
  localRecordId: string | null;
  seq: string;
  error: string;
  record: Record<string, unknown>;
}

/**
 * amie_usage_failed_record: every failed record, outstanding (`failed`) or
 * `cleared` by hand or by a later version of its identity (amie-usage.md
 * 5.1, 5.3, 7, 8). All statements are scoped to one site (5.6).
 */
@Injectable()
export class UsageFailedRecordRepository {
  constructor(private readonly db: DataSource) {}

  /** Stores failures; gives their FailedRecordIDs by seq. */
  async insert(site: string, usageType: UsageType, failures: NewFailure[], sql: Sql = this.db): Promise<Map<string, string>> {
    if (!failures.length) return new Map();
    const rows = await runRows<{ id: string; seq: string }>(
      sql,
      `INSERT INTO amie_usage_failed_record (site, usage_type, resource, local_record_id, seq, error, record, processed_at)
       SELECT $1, $2, x.resource, x.local_record_id, x.seq, x.error, x.record, now()
       FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::jsonb[]) AS x(resource, local_record_id, seq, error, record)
       ORDER BY x.seq
       RETURNING id::text, seq::text`,
      [
        site,
        usageType,
        failures.map((f) => f.resource),
        failures.map((f) => f.localRecordId),
        failures.map((f) => f.seq),
        failures.map((f) => f.error),
        failures.map((f) => JSON.stringify(f.record)),
      ],
    );
    return new Map(rows.map((r) => [r.seq, r.id]));
  }

  /**
   * Clears the outstanding failures of these identities older than the given
   * receipt sequence: a version that loads or fails replaces them, so there
   * is at most one outstanding failure per identity (5.3).
   */
  async clearOlder(
    site: string,
    usageType: UsageType,
    identities: { resource: string; localRecordId: string; seq: string }[],
    sql: Sql = this.db,
  ): Promise<number> {
    if (!identities.length) return 0;
    return runCount(
      sql,
      `UPDATE amie_usage_failed_record f SET state = 'cleared', cleared_at = now()
       FROM unnest($3::text[], $4::text[], $5::bigint[]) AS x(resource, local_record_id, seq)
       WHERE f.state = 'failed' AND f.site = $1 AND f.usage_type = $2
         AND f.resource = x.resource AND f.local_record_id = x.local_record_id AND f.seq < x.seq`,
      [site, usageType, identities.map((i) => i.resource), identities.map((i) => i.localRecordId), identities.map((i) => i.seq)],
    );
  }

  /**
   * The outstanding failures in the window, by (resource, UsageType, Error)
   * group, at most `perGroup` of each (the oldest), ordered by id.
   */
  async statusGroups(site: string, range: StatusRange, perGroup: number, sql: Sql = this.db): Promise<FailedGroupRow[]> {
    return runRows(
      sql,
      `SELECT * FROM (
         SELECT coalesce(resource, '') AS resource, usage_type, error, id::text, record, processed_at,
                count(*) OVER w AS group_count, row_number() OVER (w ORDER BY id) AS rn
         FROM amie_usage_failed_record
         WHERE site = $1 AND state = 'failed' AND ${inWindow('processed_at')}
         WINDOW w AS (PARTITION BY coalesce(resource, ''), usage_type, error)
       ) g WHERE rn <= $4 ORDER BY id`,
      [...windowParams(site, range), perGroup],
    );
  }

  /** Every outstanding failure of the site, by FailedRecordID (7). */
  async listOutstanding(site: string, sql: Sql = this.db): Promise<FailedRecordRow[]> {
    return runRows(
      sql,
      `SELECT usage_type, error, id::text, record, processed_at FROM amie_usage_failed_record WHERE site = $1 AND state = 'failed' ORDER BY id`,
      [site],
    );
  }

  /** Clears every outstanding failure of the site; gives how many. */
  async clearAll(site: string, sql: Sql = this.db): Promise<number> {
    return runCount(sql, `UPDATE amie_usage_failed_record SET state = 'cleared', cleared_at = now() WHERE site = $1 AND state = 'failed'`, [site]);
  }

  /** Clears the listed outstanding failures of the site (others' and unknown ids are ignored); gives how many. */
  async clearIds(site: string, ids: string[], sql: Sql = this.db): Promise<number> {
    if (!ids.length) return 0;
    return runCount(
      sql,
      `UPDATE amie_usage_failed_record SET state = 'cleared', cleared_at = now() WHERE site = $1 AND state = 'failed' AND id = ANY($2::bigint[])`,
      [site, ids],
    );
  }
}
