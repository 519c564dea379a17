import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BudgetDerivationService } from '../../src/reports/budgets/derivation/budget-derivation.service';
import { BudgetLedgerService } from '../../src/reports/budgets/ledger/budget-ledger.service';
import { insertBudget, SEED_PERIOD } from '../../bench/seed-budget';
import { action, createAllocation, form, ROOT } from './allocation-fixtures';
import { ADMIN_TOKEN, TestApp } from './test-app';

export interface SeededBudget {
  id: string;
  projectId: string;
}

/**
 * A budget for `projectId` over [start, end) granted `granted` SU, written
 * straight through the ledger (a `grant` entry; bench/seed-budget.ts, which
 * the benches share), for suites about what happens to a budget once it
 * exists. How an approval in force makes a budget (reports.md 6.1) is the
 * derivation suite's subject, through the allocation routes.
 */
export async function seedBudget(
  app: INestApplication,
  projectId: string,
  granted: string,
  period: { start: string; end: string } = SEED_PERIOD,
): Promise<SeededBudget> {
  const id = await insertBudget(app.get(DataSource), app.get(BudgetLedgerService, { strict: false }), projectId, granted, period);
  return { id, projectId };
}

/** What givenApprovedBudget made: the allocation (current record id) and its budget. */
export interface ApprovedBudget {
  projectId: string;
  allocationId: number;
  budgetId: string;
}

/**
 * The allocations catalogue a budget needs (reports.md 6.1): a zone, a site
 * to approve with, the `rating` service type and its `rating.budget`
 * resource, created through the allocation admin routes unless they exist.
 * Answers the resource id and the zone.
 */
export async function ensureBudgetCatalogue(t: TestApp): Promise<{ resource: number; zone: string; site: string }> {
  const zone = 'budget-zone';
  const site = 'budget-site';
  const get = (path: string) => t.http.get(`${ROOT}/${path}`).set('X-Auth-Token', ADMIN_TOKEN);
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await t.http.post(`${ROOT}/${path}/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form(body));
    if (res.status !== 201) throw new Error(`POST ${path} failed: ${res.status} ${res.text}`);
    return res.body as Record<string, any>;
  };
  if ((await get(`zones/${zone}/`)).status === 404) await post('zones', { name: zone, display_name: 'Budget zone' });
  if ((await get(`sites/${site}/`)).status === 404) await post('sites', { name: site, display_name: 'Budget site' });
  if ((await get('service-types/rating/')).status === 404) await post('service-types', { catalog_name: 'rating', name: 'Rating', zones: [zone] });
  const listed = await get('resources/?limit=1000').expect(200);
  const rows = (Array.isArray(listed.body) ? listed.body : listed.body.results) as { id: number; service_type: string; quota_name: string }[];
  const existing = rows.find((r) => r.service_type === 'rating' && r.quota_name === 'budget');
  const resource = existing?.id ?? (await post('resources', { name: 'Budget', service_type: 'rating', quota_name: 'budget', unit: 'SU' })).id;
  return { resource, zone, site };
}

/** Waits (bounded) until no budget derivation is owed, deriving by hand meanwhile (so it holds whether or not this process runs the loop). */
export async function settleBudgets(t: TestApp, timeoutMs = 30_000): Promise<void> {
  const derivation = t.app.get(BudgetDerivationService, { strict: false });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await derivation.runOwed();
    const [{ n }] = (await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_budget_recompute`)) as { n: number }[];
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} budget derivations still owed after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A budget made as a deployment makes one (reports.md 6.1): an allocation
 * for `projectId` with dates `start_date`/`end_date` (`YYYY-MM-DD`) and a
 * `rating.budget` quota of `amount` SU, approved through the allocation
 * routes; answers once its budget exists.
 */
export async function givenApprovedBudget(t: TestApp, projectId: string, amount: number, dates: { start_date: string; end_date: string }): Promise<ApprovedBudget> {
  const catalogue = await ensureBudgetCatalogue(t);
  const allocation = await createAllocation(t, ADMIN_TOKEN, {
    project_name: `b-${randomUUID().slice(0, 8)}`,
    project_id: projectId,
    associated_site: catalogue.site,
    start_date: dates.start_date,
    end_date: dates.end_date,
    managed: amount < 0 ? false : undefined,
  });
  const quota = await t.http
    .post(`${ROOT}/quotas/`)
    .set('X-Auth-Token', ADMIN_TOKEN)
    .type('form')
    .send(form({ allocation: allocation.id, resource: catalogue.resource, zone: catalogue.zone, quota: amount, requested_quota: amount }));
  if (quota.status !== 201) throw new Error(`quota creation failed: ${quota.status} ${quota.text}`);
  const approved = await action(t, ADMIN_TOKEN, allocation.id as number, 'approve');
  if (approved.status !== 200) throw new Error(`approve failed: ${approved.status} ${approved.text}`);
  await settleBudgets(t);
  const [budget] = (await t.runtime.dataSource.query(
    `SELECT b.id::text AS id FROM report_budget b, report_clock c
     WHERE b.project_id = $1 AND b.period_start = report_day_start($2::date, c.time_zone)`,
    [projectId, dates.start_date],
  )) as { id: string }[];
  if (!budget) throw new Error(`no budget for ${projectId} from ${dates.start_date} after the approval`);
  return { projectId, allocationId: allocation.id as number, budgetId: budget.id };
}
