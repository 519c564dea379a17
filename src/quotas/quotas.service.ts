import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../http/domain-error';
import { ListHoldingsQueryDto, PutHoldingsDto, PutResourceDto } from './dto/quotas-admin.dto';
import { HoldingRow, LimitWrite, QuotaHoldingsRepository } from './quota-holdings.repository';
import { QuotaResourcesRepository, ResourceView } from './quota-resources.repository';
import { QuotasError } from './quotas.errors';
import { holdingKey, PROJECT_PREFIX, stripPrefix, USER_PREFIX, wireCounters } from './quotas-values';

/** One limit to write (quotas.md 6): `user:<id>` with source `project:<id>`, or `project:<id>` with a null source. */
export interface LimitEntry {
  holder: string;
  source: string | null;
  resource: string;
  limit: number;
}

/**
 * A holding as setLimits and the admin API answer it (quotas.md 6): the wire
 * counters and the origin of its limit, `null` (the admin API) or
 * `allocation:<id>` (the allocation quota link, allocations.md §10).
 */
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
type ProjectEntry = { project_limit: number; project_usage: number; project_pending: number };

/**
 * Resources, holdings and limits, and the quota views of the Astakos account
 * API (quotas.md 4.2–4.5, 6). Commissions live in CommissionsService; every
 * SQL statement in the repositories.
 *
 * Exported (through QuotasCoreModule) for the allocation quota link, which
 * sets project limits through `setLimits` (allocations.md §10).
 */
@Injectable()
export class QuotasService {
  constructor(
    private readonly db: DataSource,
    private readonly resources: QuotaResourcesRepository,
    private readonly holdings: QuotaHoldingsRepository,
  ) {}

  // --- resources -----------------------------------------------------------

  /** GET {account}/resources: every api-visible resource, keyed by name (4.2). */
  async publicResources(): Promise<Record<string, Omit<ResourceView, 'name'>>> {
    const answer: Record<string, Omit<ResourceView, 'name'>> = {};
    for (const { name, ...rest } of await this.resources.apiVisible()) answer[name] = rest;
    return answer;
  }

  /** PUT /admin/quotas/resources/<name>: create (created = true) or replace; absent or `null` fields take their defaults. */
  putResource(name: string, body: PutResourceDto): Promise<{ created: boolean; resource: ResourceView }> {
    return this.resources.upsert({
      name,
      service: body.service,
      description: body.description ?? '',
      unit: body.unit ?? null,
      ui_visible: body.ui_visible ?? true,
      api_visible: body.api_visible ?? true,
      allow_in_projects: body.allow_in_projects ?? true,
    });
  }

  /** DELETE /admin/quotas/resources/<name>: 404 unknown, 409 while a holding uses it. */
  async deleteResource(name: string): Promise<void> {
    await this.db.transaction(async (m) => {
      if (!(await this.resources.lockForDelete(name, m))) throw new DomainError(QuotasError.ResourceNotFound, `resource ${name} not found`);
      const used = await this.resources.holdingCount(name, m);
      if (used > 0) {
        throw new DomainError(QuotasError.ResourceInUse, `resource ${name} still has ${used} holding(s); set no limits on it before deleting it`);
      }
      await this.resources.delete(name, m);
    });
  }

  // --- holdings and limits -------------------------------------------------

  /** PUT /admin/quotas/holdings (quotas.md 6). */
  async putHoldings(body: PutHoldingsDto): Promise<{ holdings: HoldingView[] }> {
    return { holdings: await this.setLimits(body.holdings) };
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
    const knownNames = await this.resources.lockExisting([...new Set(entries.map((e) => e.resource))], m);
    const unknown = entries.findIndex((e) => !knownNames.has(e.resource));
    if (unknown >= 0) throw invalid(`holdings[${unknown}]: resource ${entries[unknown].resource} does not exist`);

    // Insert the missing holdings in key order, so two writers never wait on each other's new keys crosswise.
    const keyed = new Map<string, LimitEntry>();
    for (const entry of entries) keyed.set(holdingKey(entry), entry);
    const sorted = [...keyed.values()].sort((a, b) => compareKeys(holdingKey(a), holdingKey(b)));
    const created = await this.holdings.insertMissing(sorted, origin, m);
    const rows = await this.holdings.lock(sorted, m);
    const byKey = new Map(rows.map((r) => [holdingKey(r), r]));

    const changed = new Map<string, LimitWrite>();
    for (const entry of entries) {
      const row = byKey.get(holdingKey(entry))!;
      if (created.has(row.id)) continue;
      if (origin !== null && row.origin === null) continue; // an administrator's limit wins over an allocation's
      row.limit = String(entry.limit);
      row.origin = origin;
      changed.set(row.id, { id: row.id, limit: row.limit, origin });
    }
    await this.holdings.updateLimits([...changed.values()], m);
    return entries.map((entry) => holdingView(byKey.get(holdingKey(entry))!));
  }

  /** GET /admin/quotas/holdings with exact-match filters; `source=null` selects null sources. */
  async listHoldings(query: ListHoldingsQueryDto): Promise<{ holdings: HoldingView[] }> {
    const rows = await this.holdings.list({
      holder: query.holder,
      source: query.source === 'null' ? null : query.source,
      resource: query.resource,
    });
    return { holdings: rows.map(holdingView) };
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
    const rows = await this.holdings.userQuotas(
      users?.map((u) => USER_PREFIX + u),
      projects?.map((p) => PROJECT_PREFIX + p),
    );
    const answer: Record<string, Record<string, Record<string, QuotaEntry>>> = {};
    for (const row of rows) {
      const own = wireCounters(row);
      // No project-level holding: mirror the user's own numbers, so no project cap (4.3).
      const project =
        row.p_limit === null ? own : wireCounters({ limit: row.p_limit, usage_min: row.p_usage_min!, usage_max: row.p_usage_max! });
      ((answer[stripPrefix(row.holder)] ??= {})[stripPrefix(row.source!)] ??= {})[row.resource] = {
        ...own,
        project_limit: project.limit,
        project_usage: project.usage,
        project_pending: project.pending,
      };
    }
    return answer;
  }

  /** GET {account}/service_project_quotas (4.5); 404 when `project` is given and nothing matches. */
  async projectQuotas(projects: string[] | undefined): Promise<Record<string, Record<string, ProjectEntry>>> {
    const rows = await this.holdings.projectQuotas(projects?.map((p) => PROJECT_PREFIX + p));
    if (projects !== undefined && rows.length === 0) {
      throw new DomainError(QuotasError.NotFound, `no quotas for project ${projects.join(', ')}`);
    }
    const answer: Record<string, Record<string, ProjectEntry>> = {};
    for (const row of rows) {
      const c = wireCounters(row);
      (answer[stripPrefix(row.holder)] ??= {})[row.resource] = { project_limit: c.limit, project_usage: c.usage, project_pending: c.pending };
    }
    return answer;
  }
}

function holdingView(row: HoldingRow): HoldingView {
  return { holder: row.holder, source: row.source, resource: row.resource, ...wireCounters(row), origin: row.origin };
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

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
