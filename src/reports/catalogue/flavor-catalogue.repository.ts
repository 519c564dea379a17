import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../../database/query-result';

/** A catalogue entry as the API shows it (reports.md 2.4). */
export interface FlavorRecord {
  name: string;
  aliases: string[];
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
  gpus: number;
  description: string;
  updated_at: Date;
  updated_by: string;
}

/** The sizes and text a PUT writes. */
export interface FlavorWrite {
  name: string;
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
  gpus: number;
  description: string;
  updated_by: string;
}

/** A requested string that another entry already owns. */
export interface FlavorClash {
  /** The string asked for. */
  value: string;
  /** Whether it was asked for as the entry's name or as one of its aliases. */
  asked_as: 'name' | 'alias';
  /** The entry that owns it, and how. */
  owner: string;
  owned_as: 'name' | 'alias';
}

const FLAVOR_SELECT = `
  SELECT f.name, f.vcpus, f.ram_mb, f.disk_gb, f.gpus, f.description, f.updated_at, f.updated_by,
         coalesce((SELECT array_agg(a.alias ORDER BY a.alias COLLATE "C") FROM report_flavor_alias a WHERE a.flavor_name = f.name), '{}') AS aliases
    FROM report_flavor f`;

/** Every SQL statement on report_flavor and report_flavor_alias (reports.md 2.4, 3.5). */
@Injectable()
export class FlavorCatalogueRepository {
  constructor(private readonly db: DataSource) {}

  /** Every entry, by name in byte order. */
  all(sql: Sql = this.db): Promise<FlavorRecord[]> {
    return runRows<FlavorRecord>(sql, `${FLAVOR_SELECT} ORDER BY f.name COLLATE "C"`);
  }

  get(name: string, sql: Sql = this.db): Promise<FlavorRecord | undefined> {
    return runOne<FlavorRecord>(sql, `${FLAVOR_SELECT} WHERE f.name = $1`, [name]);
  }

  /**
   * Flavor strings stored by instance versions that are neither a name nor
   * an alias of the catalogue, in byte order; only those of `projects` when
   * given (a `user`'s view, reports.md 1.3).
   */
  async unsized(projects: readonly string[] | undefined, sql: Sql = this.db): Promise<string[]> {
    // Every project: one probe of the partial flavor index per distinct
    // flavor (a loose index scan; PostgreSQL has no skip scan), instead of
    // reading every instance version. A user's projects: through their own
    // versions (the project index).
    const distinct =
      projects === undefined
        ? `WITH RECURSIVE d AS (
             (SELECT v.flavor FROM almanach_entity_version v
               WHERE v.entity_type = 'instance' AND v.flavor IS NOT NULL ORDER BY v.flavor LIMIT 1)
             UNION ALL
             SELECT (SELECT v.flavor FROM almanach_entity_version v
                      WHERE v.entity_type = 'instance' AND v.flavor IS NOT NULL AND v.flavor > d.flavor ORDER BY v.flavor LIMIT 1)
               FROM d WHERE d.flavor IS NOT NULL
           ) SELECT flavor FROM d WHERE flavor IS NOT NULL`
        : `SELECT DISTINCT v.flavor FROM almanach_entity_version v
            WHERE v.entity_type = 'instance' AND v.flavor IS NOT NULL AND v.project_id = ANY($1::text[])`;
    const rows = await runRows<{ flavor: string }>(
      sql,
      `SELECT s.flavor FROM (${distinct}) s
        WHERE NOT EXISTS (SELECT 1 FROM report_flavor f WHERE f.name = s.flavor)
          AND NOT EXISTS (SELECT 1 FROM report_flavor_alias a WHERE a.alias = s.flavor)
        ORDER BY s.flavor COLLATE "C"`,
      projects === undefined ? [] : [projects],
    );
    return rows.map((r) => r.flavor);
  }

  /**
   * Serialises catalogue writes until the transaction ends, so that the
   * uniqueness of names and aliases across both tables (2.4), which no
   * constraint can hold, is checked and written by one writer at a time.
   * Plain reads are not blocked.
   */
  async lockForWrite(sql: Sql): Promise<void> {
    await sql.query(`LOCK TABLE report_flavor, report_flavor_alias IN SHARE ROW EXCLUSIVE MODE`);
  }

  /** The strings of `name` and `aliases` that belong to another entry than `name`. */
  clashes(name: string, aliases: string[], sql: Sql): Promise<FlavorClash[]> {
    return runRows<FlavorClash>(
      sql,
      `SELECT value, asked_as, owner, owned_as FROM (
         SELECT $1::text AS value, 'name' AS asked_as, a.flavor_name AS owner, 'alias' AS owned_as
           FROM report_flavor_alias a WHERE a.alias = $1 AND a.flavor_name <> $1
         UNION ALL
         SELECT f.name, 'alias', f.name, 'name'
           FROM report_flavor f WHERE f.name = ANY($2::text[]) AND f.name <> $1
         UNION ALL
         SELECT a.alias, 'alias', a.flavor_name, 'alias'
           FROM report_flavor_alias a WHERE a.alias = ANY($2::text[]) AND a.flavor_name <> $1
       ) clash
       ORDER BY asked_as DESC, value COLLATE "C"`,
      [name, aliases],
    );
  }

  /** Creates or replaces the entry's row (not its aliases); `created` tells which. */
  async upsert(flavor: FlavorWrite, sql: Sql): Promise<boolean> {
    const row = await runOne<{ created: boolean }>(
      sql,
      `INSERT INTO report_flavor (name, vcpus, ram_mb, disk_gb, gpus, description, updated_at, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, now(), $7)
       ON CONFLICT (name) DO UPDATE SET vcpus = EXCLUDED.vcpus, ram_mb = EXCLUDED.ram_mb, disk_gb = EXCLUDED.disk_gb,
         gpus = EXCLUDED.gpus, description = EXCLUDED.description, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
       RETURNING (xmax = 0) AS created`,
      [flavor.name, flavor.vcpus, flavor.ram_mb, flavor.disk_gb, flavor.gpus, flavor.description, flavor.updated_by],
    );
    return row!.created;
  }

  /** Makes `aliases` exactly the entry's aliases. */
  async replaceAliases(name: string, aliases: string[], sql: Sql): Promise<void> {
    await runCount(sql, `DELETE FROM report_flavor_alias WHERE flavor_name = $1 AND NOT (alias = ANY($2::text[]))`, [name, aliases]);
    if (aliases.length > 0) {
      await runCount(
        sql,
        `INSERT INTO report_flavor_alias (alias, flavor_name) SELECT unnest($2::text[]), $1 ON CONFLICT (alias) DO NOTHING`,
        [name, aliases],
      );
    }
  }

  /** The first of these strings that some instance version stores, or undefined. */
  async storedInHistory(strings: string[], sql: Sql = this.db): Promise<string | undefined> {
    const row = await runOne<{ flavor: string }>(
      sql,
      `SELECT v.flavor FROM almanach_entity_version v WHERE v.entity_type = 'instance' AND v.flavor = ANY($1::text[]) LIMIT 1`,
      [strings],
    );
    return row?.flavor;
  }

  /** Deletes the entry and, by cascade, its aliases. */
  delete(name: string, sql: Sql): Promise<number> {
    return runCount(sql, `DELETE FROM report_flavor WHERE name = $1`, [name]);
  }
}
