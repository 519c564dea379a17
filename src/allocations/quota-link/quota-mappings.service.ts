import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../../http/domain-error';
import { AllocationsError } from '../allocations.errors';

/** A mapping as the admin API shows it (docs/allocations.md §10). */
export interface MappingView {
  id: number;
  codename: string;
  zone: string | null;
  resource: string;
  factor: number;
}

interface MappingRow {
  id: number;
  codename: string;
  zone: string;
  resource: string;
  factor: string;
}

const FIELDS = ['codename', 'zone', 'resource', 'factor'];
/** `<service type catalog_name>.<quota_name>`; neither part may hold a dot (allocations.md 7). */
const CODENAME = /^[^.\s]{1,32}\.[^.\s]{1,32}$/;
/** Zone names of the catalogue (allocations.md 8). */
const ZONE = /^[A-Za-z0-9_.-]{1,32}$/;

/** The admin-managed mapping from allocation codenames and zones to quota resources (allocations.md §10). */
@Injectable()
export class QuotaMappingsService {
  constructor(private readonly db: DataSource) {}

  async list(): Promise<{ mappings: MappingView[] }> {
    const rows: MappingRow[] = await this.db.query(
      `SELECT "id", "codename", "zone", "resource", "factor"::text AS "factor" FROM "alloc_quota_mapping" ORDER BY "codename", "zone", "id"`,
    );
    return { mappings: rows.map(view) };
  }

  /** Creates (created = true) or replaces the mapping of (codename, zone). */
  async put(body: unknown): Promise<{ created: boolean; mapping: MappingView }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('request body must be a JSON object');
    const fields = body as Record<string, unknown>;
    const unknown = Object.keys(fields).find((k) => !FIELDS.includes(k));
    if (unknown !== undefined) throw invalid(`${unknown}: unknown field; allowed are ${FIELDS.join(', ')}`);
    const { codename, resource } = fields;
    const zone = fields.zone ?? null;
    const factor = fields.factor ?? 1;
    if (typeof codename !== 'string' || !CODENAME.test(codename)) {
      throw invalid('codename: must be <service type>.<quota name> as in an allocation\'s quotas, e.g. compute.cores');
    }
    if (zone !== null && (typeof zone !== 'string' || !ZONE.test(zone))) throw invalid('zone: must be a zone name, or null for any zone');
    if (typeof resource !== 'string' || resource === '') throw invalid('resource: must be the name of a quota resource');
    if (typeof factor !== 'number' || !Number.isSafeInteger(factor) || factor < 1) throw invalid('factor: must be a positive integer');

    const known: unknown[] = await this.db.query(`SELECT 1 FROM "quota_resource" WHERE "name" = $1`, [resource]);
    if (known.length === 0) throw unknownResource(resource);
    try {
      const rows: (MappingRow & { created: boolean })[] = await this.db.query(
        `INSERT INTO "alloc_quota_mapping" ("codename", "zone", "resource", "factor") VALUES ($1, $2, $3, $4)
         ON CONFLICT ("codename", "zone") DO UPDATE SET "resource" = EXCLUDED."resource", "factor" = EXCLUDED."factor"
         RETURNING "id", "codename", "zone", "resource", "factor"::text AS "factor", (xmax = 0) AS "created"`,
        [codename, zone ?? '', resource, factor],
      );
      return { created: rows[0].created, mapping: view(rows[0]) };
    } catch (error) {
      // The resource was deleted between the check and the insert.
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23503') throw unknownResource(resource);
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    const deleted: unknown[] = /^\d{1,9}$/.test(id) ? await this.db.query(`WITH d AS (DELETE FROM "alloc_quota_mapping" WHERE "id" = $1 RETURNING "id") SELECT "id" FROM d`, [Number(id)]) : [];
    if (deleted.length === 0) throw new DomainError(AllocationsError.NotFound, `quota mapping ${id} not found`);
  }
}

function view(row: MappingRow): MappingView {
  return { id: row.id, codename: row.codename, zone: row.zone === '' ? null : row.zone, resource: row.resource, factor: Number(row.factor) };
}

function invalid(message: string): DomainError {
  return new DomainError(AllocationsError.Validation, message);
}

function unknownResource(resource: string): DomainError {
  return invalid(`resource: quota resource ${resource} does not exist; create it first with PUT /admin/quotas/resources/${resource}`);
}
