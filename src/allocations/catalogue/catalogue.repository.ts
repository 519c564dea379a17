import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';
import { Page } from '../shared/paging';
import { CatalogueFilter } from './catalogue-filter';
import { CollectionDef } from './catalogue.definitions';

export type Row = Record<string, unknown>;

const q = (name: string) => `"${name}"`;

/** NCRIS facilities and ARDC projects: the collections an allocation names by short name or name. */
export type NamedTable = 'alloc_facility' | 'alloc_ardc_project';

/**
 * Every SQL statement on the catalogue tables (allocations.md 8). Table and
 * column names come from catalogue.definitions.ts, never from a request.
 */
@Injectable()
export class CatalogueRepository {
  constructor(private readonly db: DataSource) {}

  async list(def: CollectionDef, filter: CatalogueFilter, page: Page): Promise<{ count: number; rows: Row[] }> {
    const params = filter.map((f) => f.value);
    const clause = filter.length ? `WHERE ${filter.map((f, i) => `${q(f.column)} = $${i + 1}`).join(' AND ')}` : '';
    const counted = await runOne<{ count: number }>(this.db, `SELECT count(*)::int AS count FROM ${q(def.table)} ${clause}`, params);
    const rows = await runRows<Row>(this.db, `SELECT * FROM ${q(def.table)} ${clause} ORDER BY ${def.orderBy} LIMIT ${page.limit} OFFSET ${page.offset}`, params);
    return { count: counted?.count ?? 0, rows };
  }

  findBy(def: CollectionDef, column: string, value: unknown): Promise<Row | undefined> {
    return runOne<Row>(this.db, `SELECT * FROM ${q(def.table)} WHERE ${q(column)} = $1`, [value]);
  }

  async insert(def: CollectionDef, values: Row): Promise<Row> {
    const columns = Object.keys(values);
    const rows = await runRows<Row>(
      this.db,
      `INSERT INTO ${q(def.table)} (${columns.map(q).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      columns.map((c) => values[c]),
    );
    return rows[0];
  }

  async update(def: CollectionDef, pk: unknown, values: Row): Promise<Row> {
    const columns = Object.keys(values);
    const rows = await runRows<Row>(
      this.db,
      `UPDATE ${q(def.table)} SET ${columns.map((c, i) => `${q(c)} = $${i + 1}`).join(', ')} WHERE ${q(def.pk)} = $${columns.length + 1} RETURNING *`,
      [...columns.map((c) => values[c]), pk],
    );
    return rows[0];
  }

  /** Whether another row (not `exceptPk`) has this value in `column`, case-insensitively. */
  async taken(def: CollectionDef, column: string, value: string, exceptPk?: unknown): Promise<boolean> {
    const params: unknown[] = [value];
    let sql = `SELECT 1 FROM ${q(def.table)} WHERE lower(${q(column)}) = lower($1)`;
    if (exceptPk !== undefined) {
      params.push(exceptPk);
      sql += ` AND ${q(def.pk)} <> $2`;
    }
    return (await runRows(this.db, sql, params)).length > 0;
  }

  async knownZones(names: string[]): Promise<string[]> {
    return (await runRows<{ name: string }>(this.db, `SELECT "name" FROM "alloc_zone" WHERE "name" = ANY($1)`, [names])).map((r) => r.name);
  }

  async knownSites(ids: number[]): Promise<number[]> {
    return (await runRows<{ id: number }>(this.db, `SELECT "id" FROM "alloc_site" WHERE "id" = ANY($1)`, [ids])).map((r) => r.id);
  }

  async serviceTypeExists(catalogName: string): Promise<boolean> {
    return (await runRows(this.db, `SELECT 1 FROM "alloc_service_type" WHERE "catalog_name" = $1`, [catalogName])).length > 0;
  }

  /** Whether the service type has a resource (other than `exceptId`) with this quota name. */
  async quotaNameTaken(serviceType: string, quotaName: string, exceptId?: unknown): Promise<boolean> {
    const params: unknown[] = [serviceType, quotaName];
    let sql = `SELECT 1 FROM "alloc_resource" WHERE "service_type" = $1 AND "quota_name" = $2`;
    if (exceptId !== undefined) {
      params.push(exceptId);
      sql += ` AND "id" <> $3`;
    }
    return (await runRows(this.db, sql, params)).length > 0;
  }

  resourcesOfServiceTypes(catalogNames: string[]): Promise<Row[]> {
    return catalogNames.length
      ? runRows<Row>(this.db, `SELECT * FROM "alloc_resource" WHERE "service_type" = ANY($1) ORDER BY "id"`, [catalogNames])
      : Promise.resolve([]);
  }

  /** Sites with a non-empty `compute_zones`, by name. */
  computeHomes(): Promise<{ name: string; compute_zones: string[] }[]> {
    return runRows(this.db, `SELECT "name", "compute_zones" FROM "alloc_site" WHERE cardinality("compute_zones") > 0 ORDER BY "name"`);
  }

  // ---- lookups for the allocation requests module ---------------------------

  async siteIdByName(name: string, sql: Sql = this.db): Promise<number | undefined> {
    return (await runOne<{ id: number }>(sql, `SELECT "id" FROM "alloc_site" WHERE "name" = $1`, [name]))?.id;
  }

  async siteName(id: number, sql: Sql = this.db): Promise<string | undefined> {
    return (await runOne<{ name: string }>(sql, `SELECT "name" FROM "alloc_site" WHERE "id" = $1`, [id]))?.name;
  }

  /** A bundle by name, or by id written as text. */
  async bundleIdByKey(key: string, sql: Sql = this.db): Promise<number | undefined> {
    return (await runOne<{ id: number }>(sql, `SELECT "id" FROM "alloc_bundle" WHERE "name" = $1 OR ("id"::text = $1)`, [key]))?.id;
  }

  /** The first facility or ARDC project whose short name or name is `text`, case-insensitively. */
  async namedId(table: NamedTable, text: string, sql: Sql = this.db): Promise<number | undefined> {
    return (await runOne<{ id: number }>(sql, `SELECT "id" FROM ${q(table)} WHERE lower("short_name") = lower($1) OR lower("name") = lower($1) ORDER BY "id"`, [text]))?.id;
  }

  /** A resource with the zones of its service type. */
  resourceWithZones(id: number, sql: Sql = this.db): Promise<{ id: number; zones: string[] } | undefined> {
    return runOne(sql, `SELECT r."id", st."zones" FROM "alloc_resource" r JOIN "alloc_service_type" st ON st."catalog_name" = r."service_type" WHERE r."id" = $1`, [id]);
  }

  async zoneExists(name: string, sql: Sql = this.db): Promise<boolean> {
    return (await runRows(sql, `SELECT 1 FROM "alloc_zone" WHERE "name" = $1`, [name])).length > 0;
  }
}
