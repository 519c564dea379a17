import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';
import { Page } from '../shared/paging';
import { Owner, ownedCondition } from './allocations.repository';

export type RecordKind = 'quotas' | 'chiefinvestigators' | 'grants' | 'publications';
export type RecordRow = Record<string, unknown> & { id: number; allocation: number };

const TABLES: Record<RecordKind, string> = {
  quotas: 'allocation_quota',
  chiefinvestigators: 'allocation_chief_investigator',
  grants: 'allocation_grant',
  publications: 'allocation_publication',
};

/** The list filters of the attached records (allocations.md 7, 9), typed. */
export interface RecordFilter {
  allocation?: number[];
  resource?: number;
  zone?: string;
  serviceType?: string;
}

/** Every SQL statement on quotas, chief investigators, grants and publications of an allocation. */
@Injectable()
export class RecordsRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(run: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(run);
  }

  async list(kind: RecordKind, filter: RecordFilter, owner: Owner | null, page: Page): Promise<{ count: number; rows: RecordRow[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.resource !== undefined) add((p) => `r."resource" = ${p}`, filter.resource);
    for (const id of filter.allocation ?? []) add((p) => `r."allocation" = ${p}`, id);
    if (filter.zone !== undefined) add((p) => `r."zone" = ${p}`, filter.zone);
    if (filter.serviceType !== undefined) add((p) => `r."resource" IN (SELECT res."id" FROM "alloc_resource" res WHERE res."service_type" = ${p})`, filter.serviceType);
    if (owner) {
      params.push(owner.projectIds, owner.userId);
      where.push(`EXISTS (SELECT 1 FROM "allocation" a WHERE a."id" = r."allocation" AND ${ownedCondition(`$${params.length - 1}`, `$${params.length}`)})`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const table = TABLES[kind];
    const counted = await runOne<{ count: number }>(this.db, `SELECT count(*)::int AS count FROM "${table}" r ${clause}`, params);
    const rows = await runRows<RecordRow>(this.db, `SELECT r.* FROM "${table}" r ${clause} ORDER BY r."id" LIMIT ${page.limit} OFFSET ${page.offset}`, params);
    return { count: counted?.count ?? 0, rows };
  }

  findById(kind: RecordKind, id: number, sql: Sql = this.db): Promise<RecordRow | undefined> {
    return runOne<RecordRow>(sql, `SELECT * FROM "${TABLES[kind]}" WHERE "id" = $1`, [id]);
  }

  async insert(kind: RecordKind, values: Record<string, unknown>, sql: Sql): Promise<RecordRow> {
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    const rows = await runRows<RecordRow>(
      sql,
      `INSERT INTO "${TABLES[kind]}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      columns.map((c) => values[c]),
    );
    return rows[0];
  }

  async update(kind: RecordKind, id: number, values: Record<string, unknown>, sql: Sql): Promise<RecordRow | undefined> {
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    if (columns.length === 0) return undefined;
    const rows = await runRows<RecordRow>(
      sql,
      `UPDATE "${TABLES[kind]}" SET ${columns.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE "id" = $${columns.length + 1} RETURNING *`,
      [...columns.map((c) => values[c]), id],
    );
    return rows[0];
  }

  async delete(kind: RecordKind, id: number, sql: Sql): Promise<void> {
    await runRows(sql, `DELETE FROM "${TABLES[kind]}" WHERE "id" = $1`, [id]);
  }

  async quotaExists(allocation: number, resource: number, zone: string, sql: Sql): Promise<boolean> {
    return (await runRows(sql, `SELECT 1 FROM "allocation_quota" WHERE "allocation" = $1 AND "resource" = $2 AND "zone" = $3`, [allocation, resource, zone])).length > 0;
  }
}
