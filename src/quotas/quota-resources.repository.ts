import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../database/query-result';

/** A resource as answered by GET {account}/resources and the admin API (quotas.md 4.2, 6); the columns are exactly the wire fields. */
export interface ResourceView {
  name: string;
  service: string;
  description: string;
  unit: string | null;
  ui_visible: boolean;
  api_visible: boolean;
  allow_in_projects: boolean;
}

/** Every SQL statement on quota_resource (quotas.md 4.2, 6). */
@Injectable()
export class QuotaResourcesRepository {
  constructor(private readonly db: DataSource) {}

  /** The api-visible resources, by name. */
  apiVisible(sql: Sql = this.db): Promise<ResourceView[]> {
    return runRows<ResourceView>(sql, `SELECT ${RESOURCE_COLUMNS} FROM quota_resource WHERE api_visible ORDER BY name`);
  }

  /** Creates or replaces one resource; `created` tells which. */
  async upsert(resource: ResourceView, sql: Sql = this.db): Promise<{ created: boolean; resource: ResourceView }> {
    const row = await runOne<ResourceView & { created: boolean }>(
      sql,
      `INSERT INTO quota_resource (name, service, description, unit, ui_visible, api_visible, allow_in_projects)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name) DO UPDATE SET service = EXCLUDED.service, description = EXCLUDED.description, unit = EXCLUDED.unit,
         ui_visible = EXCLUDED.ui_visible, api_visible = EXCLUDED.api_visible, allow_in_projects = EXCLUDED.allow_in_projects
       RETURNING ${RESOURCE_COLUMNS}, (xmax = 0) AS created`,
      [resource.name, resource.service, resource.description, resource.unit, resource.ui_visible, resource.api_visible, resource.allow_in_projects],
    );
    const { created, ...view } = row!;
    return { created, resource: view };
  }

  /** Locks one resource row for deletion; false when it does not exist. */
  async lockForDelete(name: string, sql: Sql): Promise<boolean> {
    return (await runOne(sql, `SELECT name FROM quota_resource WHERE name = $1 FOR UPDATE`, [name])) !== undefined;
  }

  /** How many holdings use the resource. */
  async holdingCount(name: string, sql: Sql = this.db): Promise<number> {
    const row = await runOne<{ n: string }>(sql, `SELECT count(*) AS n FROM quota_holding WHERE resource = $1`, [name]);
    return Number(row!.n);
  }

  async delete(name: string, sql: Sql): Promise<number> {
    return runCount(sql, `DELETE FROM quota_resource WHERE name = $1`, [name]);
  }

  /** The existing names among these, locked FOR SHARE: a resource cannot be deleted while its holdings are being written. */
  async lockExisting(names: string[], sql: Sql): Promise<Set<string>> {
    const rows = await runRows<{ name: string }>(sql, `SELECT name FROM quota_resource WHERE name = ANY($1::text[]) FOR SHARE`, [names]);
    return new Set(rows.map((r) => r.name));
  }
}

const RESOURCE_COLUMNS = 'name, service, description, unit, ui_visible, api_visible, allow_in_projects';
