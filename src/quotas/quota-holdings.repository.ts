import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runRows, Sql } from '../database/query-result';

/** The key of a holding (quotas.md 5.1); `source` null for a project's own holding. */
export interface HoldingKey {
  holder: string;
  source: string | null;
  resource: string;
}

/** A quota_holding row as node-postgres gives it: bigint columns as text. */
export interface HoldingRow extends HoldingKey {
  id: string;
  limit: string;
  usage_min: string;
  usage_max: string;
  origin: string | null;
}

/** A user holding joined with its project's own holding (null columns when that is absent), for the quota answers (4.3, 4.4). */
export interface UserQuotaRow extends HoldingKey {
  limit: string;
  usage_min: string;
  usage_max: string;
  p_limit: string | null;
  p_usage_min: string | null;
  p_usage_max: string | null;
}

/** New counters for one holding, written by the commission statements. */
export interface CounterWrite {
  id: string;
  min: number;
  max: number;
}

/** A limit write for one existing holding. */
export interface LimitWrite {
  id: string;
  limit: string;
  origin: string | null;
}

/**
 * CTE `u` writing the counters of CounterWrite rows from $1 (ids), $2
 * (usage_min), $3 (usage_max); an empty list writes nothing. The commission
 * statements start with it, so that each step of quotas.md 5.2 is one
 * statement (counters, commission rows and log together).
 */
export const UPDATE_COUNTERS = `u AS (
  UPDATE quota_holding h SET usage_min = v.usage_min, usage_max = v.usage_max
  FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, usage_min, usage_max) WHERE h.id = v.id)`;

export function counterParams(rows: CounterWrite[]): unknown[] {
  return [rows.map((r) => r.id), rows.map((r) => r.min), rows.map((r) => r.max)];
}

/** Filters of GET /admin/quotas/holdings; `source: null` selects null sources. */
export interface HoldingFilter {
  holder?: string;
  source?: string | null;
  resource?: string;
}

/** Every SQL statement on quota_holding (quotas.md 4.3–4.5, 5.1, 5.9, 6). */
@Injectable()
export class QuotaHoldingsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Inserts the holdings of these keys that do not exist yet, with usage 0,
   * in the order given (callers sort by key so that two writers never wait on
   * each other's new keys crosswise). Answers the ids of the new rows.
   */
  async insertMissing(entries: (HoldingKey & { limit: number })[], origin: string | null, sql: Sql): Promise<Set<string>> {
    const rows = await runRows<{ id: string }>(
      sql,
      `INSERT INTO quota_holding (holder, source, resource, "limit", origin)
       SELECT k.holder, k.source, k.resource, k.lim, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS k(holder, source, resource, lim)
       ON CONFLICT (holder, source, resource) DO NOTHING
       RETURNING id`,
      [entries.map((e) => e.holder), entries.map((e) => e.source), entries.map((e) => e.resource), entries.map((e) => e.limit), origin],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Locks the holdings of these keys in ascending id (5.9); absent keys are simply not returned. */
  lock(keys: HoldingKey[], sql: Sql): Promise<HoldingRow[]> {
    return runRows<HoldingRow>(
      sql,
      `SELECT h.id, h.holder, h.source, h.resource, h."limit", h.usage_min, h.usage_max, h.origin
       FROM quota_holding h
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(holder, source, resource)
         ON h.holder = k.holder AND h.source IS NOT DISTINCT FROM k.source AND h.resource = k.resource
       ORDER BY h.id
       FOR UPDATE OF h`,
      [keys.map((k) => k.holder), keys.map((k) => k.source), keys.map((k) => k.resource)],
    );
  }

  /** Locks holdings by id, in ascending id (5.9). */
  lockByIds(ids: string[], sql: Sql): Promise<HoldingRow[]> {
    return runRows<HoldingRow>(
      sql,
      `SELECT id, holder, source, resource, "limit", usage_min, usage_max, origin FROM quota_holding WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
  }

  /** Writes limits and origins of locked holdings in one statement. */
  async updateLimits(writes: LimitWrite[], sql: Sql): Promise<void> {
    if (writes.length === 0) return;
    await runRows(
      sql,
      `UPDATE quota_holding h SET "limit" = v.lim, origin = v.origin
       FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS v(id, lim, origin) WHERE h.id = v.id`,
      [writes.map((w) => w.id), writes.map((w) => w.limit), writes.map((w) => w.origin)],
    );
  }

  /** Holdings matching exact filters, ordered by holder, source (nulls first), resource. */
  list(filter: HoldingFilter, sql: Sql = this.db): Promise<HoldingRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const field of ['holder', 'source', 'resource'] as const) {
      const value = filter[field];
      if (value === undefined) continue;
      if (value === null) {
        where.push(`${field} IS NULL`);
      } else {
        params.push(value);
        where.push(`${field} = $${params.length}`);
      }
    }
    return runRows<HoldingRow>(
      sql,
      `SELECT id, holder, source, resource, "limit", usage_min, usage_max, origin FROM quota_holding
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY holder, source NULLS FIRST, resource`,
      params,
    );
  }

  /**
   * User holdings (`user:<uuid>`, `project:<uuid>`) of api-visible resources,
   * each with its project's own holding; optionally only these holders and sources.
   */
  userQuotas(holders: string[] | undefined, sources: string[] | undefined, sql: Sql = this.db): Promise<UserQuotaRow[]> {
    const where = [`h.holder LIKE 'user:%'`, `h.source IS NOT NULL`];
    const params: unknown[] = [];
    if (holders !== undefined) {
      params.push(holders);
      where.push(`h.holder = ANY($${params.length}::text[])`);
    }
    if (sources !== undefined) {
      params.push(sources);
      where.push(`h.source = ANY($${params.length}::text[])`);
    }
    return runRows<UserQuotaRow>(
      sql,
      `SELECT h.holder, h.source, h.resource, h."limit", h.usage_min, h.usage_max,
              p."limit" AS p_limit, p.usage_min AS p_usage_min, p.usage_max AS p_usage_max
       FROM quota_holding h
       JOIN quota_resource r ON r.name = h.resource AND r.api_visible
       LEFT JOIN quota_holding p ON p.holder = h.source AND p.source IS NULL AND p.resource = h.resource
       WHERE ${where.join(' AND ')}
       ORDER BY h.holder, h.source, h.resource`,
      params,
    );
  }

  /** Projects' own holdings (`project:<uuid>`, null) of api-visible resources; optionally only these holders. */
  projectQuotas(holders: string[] | undefined, sql: Sql = this.db): Promise<HoldingRow[]> {
    const where = [`h.holder LIKE 'project:%'`, `h.source IS NULL`];
    const params: unknown[] = [];
    if (holders !== undefined) {
      params.push(holders);
      where.push(`h.holder = ANY($1::text[])`);
    }
    return runRows<HoldingRow>(
      sql,
      `SELECT h.id, h.holder, h.source, h.resource, h."limit", h.usage_min, h.usage_max, h.origin
       FROM quota_holding h JOIN quota_resource r ON r.name = h.resource AND r.api_visible
       WHERE ${where.join(' AND ')} ORDER BY h.holder, h.resource`,
      params,
    );
  }
}
