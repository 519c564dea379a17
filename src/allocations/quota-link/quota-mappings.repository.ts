import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runRows } from '../../database/query-result';

export interface StoredMapping {
  id: number;
  codename: string;
  /** '' means any zone. */
  zone: string;
  resource: string;
  factor: string;
}

/** Every SQL statement on alloc_quota_mapping (allocations.md §10). */
@Injectable()
export class QuotaMappingsRepository {
  constructor(private readonly db: DataSource) {}

  list(): Promise<StoredMapping[]> {
    return runRows<StoredMapping>(this.db, `SELECT "id", "codename", "zone", "resource", "factor"::text AS "factor" FROM "alloc_quota_mapping" ORDER BY "codename", "zone", "id"`);
  }

  async quotaResourceExists(name: string): Promise<boolean> {
    return (await runRows(this.db, `SELECT 1 FROM "quota_resource" WHERE "name" = $1`, [name])).length > 0;
  }

  /**
   * Creates or replaces the mapping of (codename, zone); `created` says which.
   * A quota resource deleted meanwhile fails with the foreign key (23503).
   */
  async upsert(codename: string, zone: string, resource: string, factor: number): Promise<StoredMapping & { created: boolean }> {
    const rows = await runRows<StoredMapping & { created: boolean }>(
      this.db,
      `INSERT INTO "alloc_quota_mapping" ("codename", "zone", "resource", "factor") VALUES ($1, $2, $3, $4)
       ON CONFLICT ("codename", "zone") DO UPDATE SET "resource" = EXCLUDED."resource", "factor" = EXCLUDED."factor"
       RETURNING "id", "codename", "zone", "resource", "factor"::text AS "factor", (xmax = 0) AS "created"`,
      [codename, zone, resource, factor],
    );
    return rows[0];
  }

  async delete(id: number): Promise<boolean> {
    const rows = await runRows(this.db, `WITH d AS (DELETE FROM "alloc_quota_mapping" WHERE "id" = $1 RETURNING "id") SELECT "id" FROM d`, [id]);
    return rows.length > 0;
  }
}
