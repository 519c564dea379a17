import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';
import { Page } from '../shared/paging';
import { OrganisationFilter, OrganisationTextFilter } from './organisation-filter';
import { OrganisationRow } from './organisation-view';

const TEXT_SQL: Record<OrganisationTextFilter, (p: string) => string> = {
  ror_id: (p) => `"ror_id" = ${p}`,
  ror_id__iexact: (p) => `lower("ror_id") = lower(${p})`,
  short_name: (p) => `"short_name" = ${p}`,
  short_name__iexact: (p) => `lower("short_name") = lower(${p})`,
  full_name: (p) => `"full_name" = ${p}`,
  full_name__iexact: (p) => `lower("full_name") = lower(${p})`,
  full_name__icontains: (p) => `strpos(lower("full_name"), lower(${p})) > 0`,
  country: (p) => `"country" = ${p}`,
  country__iexact: (p) => `lower("country") = lower(${p})`,
  url: (p) => `"url" = ${p}`,
  url__iexact: (p) => `lower("url") = lower(${p})`,
};

/** Columns an organisation write may set (the wire names). */
export type OrganisationValues = Partial<Omit<OrganisationRow, 'id'>>;

/** Every SQL statement on alloc_organisation. */
@Injectable()
export class OrganisationsRepository {
  constructor(private readonly db: DataSource) {}

  async list(filter: OrganisationFilter, page: Page): Promise<{ count: number; rows: OrganisationRow[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const { key, value } of filter.text) {
      params.push(value);
      where.push(TEXT_SQL[key](`$${params.length}`));
    }
    if (filter.enabled !== undefined) {
      params.push(filter.enabled);
      where.push(`"enabled" = $${params.length}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const counted = await runOne<{ count: number }>(this.db, `SELECT count(*)::int AS count FROM "alloc_organisation" ${clause}`, params);
    const rows = await runRows<OrganisationRow>(
      this.db,
      `SELECT * FROM "alloc_organisation" ${clause} ORDER BY "full_name", "id" LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    return { count: counted?.count ?? 0, rows };
  }

  findById(id: number, sql: Sql = this.db): Promise<OrganisationRow | undefined> {
    return runOne<OrganisationRow>(sql, `SELECT * FROM "alloc_organisation" WHERE "id" = $1`, [id]);
  }

  byIds(ids: number[], sql: Sql = this.db): Promise<OrganisationRow[]> {
    return ids.length ? runRows<OrganisationRow>(sql, `SELECT * FROM "alloc_organisation" WHERE "id" = ANY($1)`, [ids]) : Promise.resolve([]);
  }

  async existingIds(ids: number[]): Promise<number[]> {
    const rows = await runRows<{ id: number }>(this.db, `SELECT "id" FROM "alloc_organisation" WHERE "id" = ANY($1)`, [ids]);
    return rows.map((r) => r.id);
  }

  /** A proposal clashes with an organisation of the same full name or URL, case-insensitively. */
  async nameOrUrlTaken(fullName: string, url: string): Promise<boolean> {
    const rows = await runRows(this.db, `SELECT 1 FROM "alloc_organisation" WHERE lower("full_name") = lower($1) OR ($2 <> '' AND lower("url") = lower($2))`, [fullName, url]);
    return rows.length > 0;
  }

  /** Candidates for a reference: by integer id, ROR id, or full or short name, case-insensitively. */
  matching(asId: number | undefined, text: string, sql: Sql = this.db): Promise<OrganisationRow[]> {
    return runRows<OrganisationRow>(
      sql,
      `SELECT * FROM "alloc_organisation" WHERE ($1::int IS NOT NULL AND "id" = $1::int) OR ("ror_id" <> '' AND lower("ror_id") = lower($2))
         OR lower("full_name") = lower($2) OR lower("short_name") = lower($2)`,
      [asId ?? null, text],
    );
  }

  async insert(values: OrganisationValues): Promise<OrganisationRow> {
    const columns = (Object.keys(values) as (keyof OrganisationValues)[]).filter((c) => values[c] !== undefined);
    const rows = await runRows<OrganisationRow>(
      this.db,
      `INSERT INTO "alloc_organisation" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      columns.map((c) => values[c]),
    );
    return rows[0];
  }

  async update(id: number, values: OrganisationValues): Promise<OrganisationRow> {
    const columns = (Object.keys(values) as (keyof OrganisationValues)[]).filter((c) => values[c] !== undefined);
    const rows = await runRows<OrganisationRow>(
      this.db,
      `UPDATE "alloc_organisation" SET ${columns.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE "id" = $${columns.length + 1} RETURNING *`,
      [...columns.map((c) => values[c]), id],
    );
    return rows[0];
  }
}
