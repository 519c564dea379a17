import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../http/domain-error';
import { QuotasError } from './quotas.errors';
import { ListHoldingsQueryDto, PutHoldingsDto, PutResourceDto } from './dto/quotas-admin.dto';
import { num, PROJECT_PREFIX, stripPrefix, USER_PREFIX, wireCounters } from './quotas-values';

/** A resource as answered by GET {account}/resources and the admin API (quotas.md 4.2, 6). */
export interface ResourceView {
  name: string;
  service: string;
  description: string;
  unit: string | null;
  ui_visible: boolean;
  api_visible: boolean;
  allow_in_projects: boolean;
}

/** One limit to write (quotas.md 6): `user:<id>` with source `project:<id>`, or `project:<id>` with a null source. */
export interface LimitEntry {
  holder: string;
  source: string | null;
  resource: string;
  limit: number;
}

/** A holding as the admin API shows it; `origin` is kept out of the wire until the allocation link is merged. */
export interface HoldingView {
  holder: string;
  source: string | null;
  resource: string;
  limit: number;
  usage: number;
  pending: number;
  origin: string | null;
}

export interface SetLimitsOptions {
  /**
   * Who writes the limits. `null` (the default, the admin API) always sets the
   * limit and clears the origin. `allocation:<id>` (the allocation link,
   * allocations.md §10) creates missing holdings and changes only holdings
   * whose origin is already an allocation, so an administrator's limit is
   * never silently replaced (quotas.md 6).
   */
  origin?: string | null;
  /** Run inside the caller's transaction (in embedded mode every query of a transaction must use its manager). */
  manager?: EntityManager;
}

/** The largest accepted limit, written for "unlimited" (quotas.md 6, "Numbers"). */
export const UNLIMITED = Number.MAX_SAFE_INTEGER;

type QuotaEntry = { limit: number; usage: number; pending: number; project_limit: number; project_usage: number; project_pending: number };

interface HoldingRow {
  id: string;
  holder: string;
  source: string | null;
  resource: string;
  limit: string;
  usage_min: string;
  usage_max: string;
  origin: string | null;
}

/**
 * Resources, holdings and limits, and the quota views of the Astakos account
 * API (quotas.md 4.2–4.5, 6). Commissions live in CommissionsService.
 * Exported for the allocations module, which sets project limits through
 * `setLimits` (allocations.md §10).
 */
@Injectable()
export class QuotasService {
  constructor(private readonly db: DataSource) {}

  // --- resources -----------------------------------------------------------

  /** GET {account}/resources: every api-visible resource, keyed by name (4.2). */
  async publicResources(): Promise<Record<string, Omit<ResourceView, 'name'>>> {
    const rows: ResourceRow[] = await this.db.query(`SELECT * FROM quota_resource WHERE api_visible ORDER BY name`);
    const answer: Record<string, Omit<ResourceView, 'name'>> = {};
    for (const row of rows) {
      const { name, ...rest } = resourceView(row);
      answer[name] = rest;
    }
    return answer;
  }

  /** PUT /admin/quotas/resources/<name>: create (created = true) or replace; `null` fields take their defaults. */
  async putResource(name: string, body: PutResourceDto): Promise<{ created: boolean; resource: ResourceView }> {
    const description = body.description ?? '';
    const unit = body.unit ?? null;
    const flags = { ui_visible: body.ui_visible ?? true, api_visible: body.api_visible ?? true, allow_in_projects: body.allow_in_projects ?? true };
    const rows: (ResourceRow & { created: boolean })[] = await this.db.query(
      `INSERT INTO quota_resource (name, service, description, unit, ui_visible, api_visible, allow_in_projects)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name) DO UPDATE SET service = EXCLUDED.service, description = EXCLUDED.description, unit = EXCLUDED.unit,
         ui_visible = EXCLUDED.ui_visible, api_visible = EXCLUDED.api_visible, allow_in_projects = EXCLUDED.allow_in_projects
       RETURNING *, (xmax = 0) AS created`,
      [name, body.service, description, unit, flags.ui_visible, flags.api_visible, flags.allow_in_projects],
    );
    return { created: rows[0].created, resource: resourceView(rows[0]) };
  }

  /** DELETE /admin/quotas/resources/<name>: 404 unknown, 409 while a holding uses it. */
  async deleteResource(name: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const rows: { name: string }[] = await m.query(`SELECT name FROM quota_resource WHERE name = $1 FOR UPDATE`, [name]);
      if (rows.length === 0) throw new DomainError(QuotasError.ResourceNotFound, `resource ${name} not found`);
      const used: { n: string }[] = await m.query(`SELECT count(*) AS n FROM quota_holding WHERE resource = $1`, [name]);
      if (num(used[0].n) > 0) {
        throw new DomainError(QuotasError.ResourceInUse, `resource ${name} still has ${used[0].n} holding(s); set no limits on it before deleting it`);
      }
      await m.query(`DELETE FROM quota_resource WHERE name = $1`, [name]);
    });
  }

  // --- holdings and limits -------------------------------------------------

  /** PUT /admin/quotas/holdings (quotas.md 6). */
  async putHoldings(body: PutHoldingsDto): Promise<{ holdings: Omit<HoldingView, 'origin'>[] }> {
    const views = await this.setLimits(body.holdings);
    return { holdings: views.map(withoutOrigin) };
  }

  /**
   * Sets limits, creating holdings as needed, all in one transaction; any
   * invalid entry (shape, unknown resource, limit not a safe integer >= 0)
   * refuses the whole list with a 400 naming it. A new holding starts with
   * usage 0; an existing one keeps its usage and pending, and may be given a
   * limit below its usage. Holdings are locked in id order, as commissions
   * lock them (5.9), so limit changes and commissions serialise.
   *
   * This is the method the allocation link calls (allocations.md §10), with
   * `origin: 'allocation:<id>'`; answers the holdings in entry order.
   */
  async setLimits(entries: LimitEntry[], options: SetLimitsOptions = {}): Promise<HoldingView[]> {
    entries.forEach((entry, i) => checkLimitEntry(entry, `holdings[${i}]`));
    const origin = options.origin ?? null;
    if (entries.length === 0) return [];
    const run = (m: EntityManager) => this.setLimitsIn(m, entries, origin);
    return options.manager ? run(options.manager) : this.db.transaction(run);
  }

  private async setLimitsIn(m: EntityManager, entries: LimitEntry[], origin: string | null): Promise<HoldingView[]> {
    const names = [...new Set(entries.map((e) => e.resource))];
    // FOR SHARE: a resource cannot be deleted while its holdings are being written.
    const known: { name: string }[] = await m.query(`SELECT name FROM quota_resource WHERE name = ANY($1::text[]) FOR SHARE`, [names]);
    const knownNames = new Set(known.map((r) => r.name));
    const unknown = entries.findIndex((e) => !knownNames.has(e.resource));
    if (unknown >= 0) throw invalid(`holdings[${unknown}]: resource ${entries[unknown].resource} does not exist`);

    // Insert the missing holdings in key order, so two writers never wait on each other's new keys crosswise.
    const keyed = new Map<string, LimitEntry>();
    for (const entry of entries) keyed.set(holdingKey(entry), entry);
    const sorted = [...keyed.values()].sort((a, b) => compareKeys(holdingKey(a), holdingKey(b)));
    const inserted: { id: string }[] = await m.query(
      `INSERT INTO quota_holding (holder, source, resource, "limit", origin)
       SELECT k.holder, k.source, k.resource, k.lim, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS k(holder, source, resource, lim)
       ON CONFLICT (holder, source, resource) DO NOTHING
       RETURNING id`,
      [sorted.map((e) => e.holder), sorted.map((e) => e.source), sorted.map((e) => e.resource), sorted.map((e) => e.limit), origin],
    );
    const created = new Set(inserted.map((r) => r.id));
    const rows = await lockHoldings(m, sorted);
    const byKey = new Map(rows.map((r) => [holdingKey(r), r]));

    const changed = new Map<string, HoldingRow>();
    for (const entry of entries) {
      const row = byKey.get(holdingKey(entry))!;
      if (created.has(row.id)) continue;
      if (origin !== null && row.origin === null) continue; // an administrator's limit wins over an allocation's
      row.limit = String(entry.limit);
      row.origin = origin;
      changed.set(row.id, row);
    }
    if (changed.size > 0) {
      const list = [...changed.values()];
      await m.query(
        `UPDATE quota_holding h SET "limit" = v.lim, origin = v.origin
         FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS v(id, lim, origin) WHERE h.id = v.id`,
        [list.map((r) => r.id), list.map((r) => r.limit), list.map((r) => r.origin)],
      );
    }
    return entries.map((entry) => holdingView(byKey.get(holdingKey(entry))!));
  }

  /** GET /admin/quotas/holdings with exact-match filters; `source=null` selects null sources. */
  async listHoldings(query: ListHoldingsQueryDto): Promise<{ holdings: Omit<HoldingView, 'origin'>[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const field of ['holder', 'source', 'resource'] as const) {
      const value = query[field];
      if (value === undefined) continue;
      if (field === 'source' && value === 'null') {
        where.push(`source IS NULL`);
      } else {
        params.push(value);
        where.push(`${field} = $${params.length}`);
      }
    }
    const rows: HoldingRow[] = await this.db.query(
      `SELECT * FROM quota_holding ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY holder, source NULLS FIRST, resource`,
      params,
    );
    return { holdings: rows.map((r) => withoutOrigin(holdingView(r))) };
  }

  // --- quota views ---------------------------------------------------------

  /** GET {account}/quotas for a `user` token (4.3): `{project: {resource: entry}}`. */
  async userQuotas(userId: string): Promise<Record<string, Record<string, QuotaEntry>>> {
    const answer = await this.serviceQuotasAnswer([userId], undefined);
    return answer[userId] ?? {};
  }

  /** GET {account}/service_quotas (4.4); 404 when `user` is given and nothing matches. */
  async serviceQuotas(users: string[] | undefined, projects: string[] | undefined): Promise<Record<string, Record<string, Record<string, QuotaEntry>>>> {
    const answer = await this.serviceQuotasAnswer(users, projects);
    if (users !== undefined && Object.keys(answer).length === 0) {
      throw new DomainError(QuotasError.NotFound, `no quotas for user ${users.join(', ')}${projects ? ` in project ${projects.join(', ')}` : ''}`);
    }
    return answer;
  }

  private async serviceQuotasAnswer(users: string[] | undefined, projects: string[] | undefined) {
    const where = [`h.holder LIKE 'user:%'`, `h.source IS NOT NULL`];
    const params: unknown[] = [];
    if (users !== undefined) {
      params.push(users.map((u) => USER_PREFIX + u));
      where.push(`h.holder = ANY($${params.length}::text[])`);
    }
    if (projects !== undefined) {
      params.push(projects.map((p) => PROJECT_PREFIX + p));
      where.push(`h.source = ANY($${params.length}::text[])`);
    }
    const rows: (HoldingRow & { p_limit: string | null; p_usage_min: string | null; p_usage_max: string | null })[] = await this.db.query(
      `SELECT h.holder, h.source, h.resource, h."limit", h.usage_min, h.usage_max,
              p."limit" AS p_limit, p.usage_min AS p_usage_min, p.usage_max AS p_usage_max
       FROM quota_holding h
       JOIN quota_resource r ON r.name = h.resource AND r.api_visible
       LEFT JOIN quota_holding p ON p.holder = h.source AND p.source IS NULL AND p.resource = h.resource
       WHERE ${where.join(' AND ')}
       ORDER BY h.holder, h.source, h.resource`,
      params,
    );
    const answer: Record<string, Record<string, Record<string, QuotaEntry>>> = {};
    for (const row of rows) {
      const own = wireCounters(row);
      // No project-level holding: mirror the user's own numbers, so no project cap (4.3).
      const project =
        row.p_limit === null ? own : wireCounters({ limit: row.p_limit, usage_min: row.p_usage_min!, usage_max: row.p_usage_max! });
      const user = stripPrefix(row.holder);
      const source = stripPrefix(row.source!);
      ((answer[user] ??= {})[source] ??= {})[row.resource] = {
        ...own,
        project_limit: project.limit,
        project_usage: project.usage,
        project_pending: project.pending,
      };
    }
    return answer;
  }

  /** GET {account}/service_project_quotas (4.5); 404 when `project` is given and nothing matches. */
  async projectQuotas(projects: string[] | undefined): Promise<Record<string, Record<string, { project_limit: number; project_usage: number; project_pending: number }>>> {
    const where = [`h.holder LIKE 'project:%'`, `h.source IS NULL`];
    const params: unknown[] = [];
    if (projects !== undefined) {
      params.push(projects.map((p) => PROJECT_PREFIX + p));
      where.push(`h.holder = ANY($1::text[])`);
    }
    const rows: HoldingRow[] = await this.db.query(
      `SELECT h.holder, h.resource, h."limit", h.usage_min, h.usage_max
       FROM quota_holding h JOIN quota_resource r ON r.name = h.resource AND r.api_visible
       WHERE ${where.join(' AND ')} ORDER BY h.holder, h.resource`,
      params,
    );
    const answer: Record<string, Record<string, { project_limit: number; project_usage: number; project_pending: number }>> = {};
    for (const row of rows) {
      const c = wireCounters(row);
      (answer[stripPrefix(row.holder)] ??= {})[row.resource] = { project_limit: c.limit, project_usage: c.usage, project_pending: c.pending };
    }
    if (projects !== undefined && rows.length === 0) {
      throw new DomainError(QuotasError.NotFound, `no quotas for project ${projects.join(', ')}`);
    }
    return answer;
  }
}

/** The quota_resource columns selected are exactly the wire fields. */
type ResourceRow = ResourceView;

function resourceView(row: ResourceRow): ResourceView {
  return {
    name: row.name,
    service: row.service,
    description: row.description,
    unit: row.unit,
    ui_visible: row.ui_visible,
    api_visible: row.api_visible,
    allow_in_projects: row.allow_in_projects,
  };
}

function holdingView(row: HoldingRow): HoldingView {
  return { holder: row.holder, source: row.source, resource: row.resource, ...wireCounters(row), origin: row.origin };
}

function withoutOrigin(view: HoldingView): Omit<HoldingView, 'origin'> {
  const { origin: _origin, ...rest } = view;
  return rest;
}

function invalid(message: string): DomainError {
  return new DomainError(QuotasError.InvalidField, message);
}

const ID = /^[^\s:][^\s]*$/;

/**
 * The rules of quotas.md 6 on one limit entry, whoever writes it (the admin
 * API, whose DTO has already checked the types, or the allocation link): the
 * holder and source forms and the limit range. The message names the entry.
 */
function checkLimitEntry(entry: LimitEntry, at: string): void {
  const { holder, source, resource, limit } = entry;
  if (typeof resource !== 'string' || resource === '') throw invalid(`${at}.resource: must be a resource name`);
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid(`${at}.limit: must be an integer from 0 to ${UNLIMITED}`);
  const userHolding = holder.startsWith(USER_PREFIX) && ID.test(holder.slice(USER_PREFIX.length));
  const projectHolding = holder.startsWith(PROJECT_PREFIX) && ID.test(holder.slice(PROJECT_PREFIX.length));
  if (userHolding) {
    if (typeof source !== 'string' || !source.startsWith(PROJECT_PREFIX) || !ID.test(source.slice(PROJECT_PREFIX.length))) {
      throw invalid(`${at}.source: a user holding needs a source project:<id>`);
    }
  } else if (projectHolding) {
    if (source !== null) throw invalid(`${at}.source: a project holding has a null source`);
  } else {
    throw invalid(`${at}.holder: must be user:<id> or project:<id>`);
  }
}

export function holdingKey(k: { holder: string; source: string | null; resource: string }): string {
  return JSON.stringify([k.holder, k.source, k.resource]);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Locks the holdings of these keys in ascending id (5.9); absent keys are simply not returned. */
export async function lockHoldings(
  m: EntityManager,
  keys: { holder: string; source: string | null; resource: string }[],
): Promise<HoldingRow[]> {
  return m.query(
    `SELECT h.id, h.holder, h.source, h.resource, h."limit", h.usage_min, h.usage_max, h.origin
     FROM quota_holding h
     JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(holder, source, resource)
       ON h.holder = k.holder AND h.source IS NOT DISTINCT FROM k.source AND h.resource = k.resource
     ORDER BY h.id
     FOR UPDATE OF h`,
    [keys.map((k) => k.holder), keys.map((k) => k.source), keys.map((k) => k.resource)],
  );
}

export type { HoldingRow };
