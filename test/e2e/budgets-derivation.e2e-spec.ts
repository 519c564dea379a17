import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../../src/queue/job-payloads';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { action, createAllocation, form, ROOT } from '../support/allocation-fixtures';
import { ensureBudgetCatalogue, givenApprovedBudget, seedBudget, settleBudgets } from '../support/budgets';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/** `YYYY-MM-DD` of today (UTC, the suite's REPORT_TIME_ZONE) plus `days`. */
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const startOf = (date: string) => `${date}T00:00:00.000Z`;

/**
 * Budgets derived from the approval in force (reports.md 6.1), through the
 * allocation routes only: the statement-level triggers mark the project, the
 * derivation loop (this process consumes the queue: in-process, or a BullMQ
 * worker started here with REDIS_URL) makes the budget.
 */
describe('budget derivation from approvals in force (reports.md 6.1)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'test'}-bud-${randomUUID()}`, REPORT_TIME_ZONE: 'UTC' }, { dropQueueKeys: true });
    t.app.get(JobQueueService).startWorker();
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    const redis = t.runtime.queue.redis;
    if (redis) {
      const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: t.runtime.config.queuePrefix });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await t.close();
  });
  beforeEach(async () => {
    await settleBudgets(t);
    await t.reset();
  });

  const budget = (projectId: string, query: Record<string, string> = {}) => t.http.get(`/reports/budgets/${projectId}`).query(query).set('X-Auth-Token', ADMIN_TOKEN);
  const ledger = (projectId: string, query: Record<string, string> = {}) => t.http.get(`/reports/budgets/${projectId}/ledger`).query(query).set('X-Auth-Token', ADMIN_TOKEN);
  const patch = (id: number, body: Record<string, unknown>) => t.http.patch(`${ROOT}/allocations/${id}/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form(body));

  async function replaceBudgetQuota(allocationId: number, amount: number): Promise<void> {
    const { resource, zone } = await ensureBudgetCatalogue(t);
    const existing = await t.http.get(`${ROOT}/quotas/?group__allocation=${allocationId}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
    for (const q of existing.body.results) await t.http.delete(`${ROOT}/quotas/${q.id}/`).set('X-Auth-Token', ADMIN_TOKEN).expect(204);
    await t.http.post(`${ROOT}/quotas/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: allocationId, resource, zone, quota: amount, requested_quota: amount })).expect(201);
  }

  /** Polls the route (the loop, not the test, derives) until it answers 200. */
  async function appears(projectId: string, timeoutMs = 30_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await budget(projectId);
      if (res.status === 200) return res.body;
      if (Date.now() > deadline) throw new Error(`no budget for ${projectId} after ${timeoutMs} ms: ${res.status} ${res.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('an approval with a rating.budget quota makes a budget within the freshness target, the loop alone deriving it', async () => {
    const { resource, zone, site } = await ensureBudgetCatalogue(t);
    const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'loop-only', project_id: 'p-loop', associated_site: site, start_date: day(-3), end_date: day(30) });
    await t.http.post(`${ROOT}/quotas/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: a.id, resource, zone, quota: 1500, requested_quota: 1500 })).expect(201);
    expect((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_budget_recompute WHERE project_id = 'p-loop'`))[0].n).toBe(1);
    expect((await budget('p-loop')).status).toBe(404);
    await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
    const b = await appears('p-loop');
    expect(b).toMatchObject({ project_id: 'p-loop', unit: 'SU', allocation_id: a.id, granted: '1500.000000', period: { start: startOf(day(-3)), end: startOf(day(30)) } });
  });

  it('answers the budget of the approval, with a grant at the period start by system, ref allocation:<current id>', async () => {
    const given = await givenApprovedBudget(t, 'p-1', 10_000, { start_date: day(-10), end_date: day(100) });
    const b = (await budget('p-1').expect(200)).body;
    expect(b).toMatchObject({ granted: '10000.000000', consumed: '0.000000', available: '10000.000000', allocation_id: given.allocationId, state: 'ok', ratio: '0.000000' });
    const entries = (await ledger('p-1').expect(200)).body.entries;
    expect(entries).toEqual([
      expect.objectContaining({ kind: 'grant', amount: '10000.000000', at: startOf(day(-10)), ref: `allocation:${given.allocationId}`, actor: 'system', reason: null }),
    ]);
  });

  it('a bundle gives floor(su_per_year / 12 × duration) in its zone', async () => {
    const { site } = await ensureBudgetCatalogue(t);
    await t.http.post(`${ROOT}/zones/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ name: 'melbourne', display_name: 'Melbourne' })).expect(201);
    await t.http.post(`${ROOT}/bundles/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ name: 'small', description: 'Small', zone: 'melbourne', order: 1, su_per_year: 1000 })).expect(201);
    const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'bundled', project_id: 'p-b', associated_site: site, bundle: 'small', estimated_project_duration: 3, start_date: day(-1), end_date: day(60) });
    await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
    await settleBudgets(t);
    expect((await budget('p-b').expect(200)).body.granted).toBe('250.000000');
    // A catalogue change (the bundle's SU per year) recomputes every project.
    await t.http.patch(`${ROOT}/bundles/small/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ su_per_year: 1200 })).expect(200);
    await settleBudgets(t);
    expect((await budget('p-b').expect(200)).body.granted).toBe('300.000000');
    expect((await ledger('p-b').expect(200)).body.entries.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
      ['grant', '250.000000'],
      ['grant_adjustment', '50.000000'],
    ]);
  });

  it('a new amount posts a grant_adjustment of the difference, never an edit; a pending amendment changes nothing', async () => {
    const given = await givenApprovedBudget(t, 'p-2', 5000, { start_date: day(-10), end_date: day(100) });
    await action(t, ADMIN_TOKEN, given.allocationId, 'amend').expect(200);
    await replaceBudgetQuota(given.allocationId, 8000);
    await settleBudgets(t);
    expect((await budget('p-2').expect(200)).body.granted).toBe('5000.000000');
    await action(t, ADMIN_TOKEN, given.allocationId, 'approve').expect(200);
    await settleBudgets(t);
    expect((await budget('p-2').expect(200)).body.granted).toBe('8000.000000');
    await action(t, ADMIN_TOKEN, given.allocationId, 'amend').expect(200);
    await replaceBudgetQuota(given.allocationId, 6000);
    await action(t, ADMIN_TOKEN, given.allocationId, 'approve').expect(200);
    await settleBudgets(t);
    const entries = (await ledger('p-2').expect(200)).body.entries;
    expect(entries.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
      ['grant', '5000.000000'],
      ['grant_adjustment', '3000.000000'],
      ['grant_adjustment', '-2000.000000'],
    ]);
    expect((await budget('p-2').expect(200)).body.granted).toBe('6000.000000');
  });

  it('a new end_date moves the period end of the same budget', async () => {
    const given = await givenApprovedBudget(t, 'p-3', 100, { start_date: day(-5), end_date: day(20) });
    await action(t, ADMIN_TOKEN, given.allocationId, 'amend').expect(200);
    await patch(given.allocationId, { end_date: day(40) }).expect(200);
    await action(t, ADMIN_TOKEN, given.allocationId, 'approve').expect(200);
    await settleBudgets(t);
    const b = (await budget('p-3').expect(200)).body;
    expect(b.period).toEqual({ start: startOf(day(-5)), end: startOf(day(40)) });
    expect((await ledger('p-3').expect(200)).body.entries).toHaveLength(1);
  });

  it('a new start_date starts a new budget and ends the previous one there; its entries dated after follow', async () => {
    const given = await givenApprovedBudget(t, 'p-4', 1000, { start_date: day(-30), end_date: day(100) });
    // A manual debit dated after the coming new start belongs to the old budget now.
    await t.http.post('/admin/reports/budgets/p-4/entries').set('X-Auth-Token', ADMIN_TOKEN).send({ kind: 'manual_debit', amount: '40', reason: 'test', at: `${day(-5)}T12:00:00Z` }).expect(201);
    await t.http.post('/admin/reports/budgets/p-4/entries').set('X-Auth-Token', ADMIN_TOKEN).send({ kind: 'manual_debit', amount: '7', reason: 'early', at: `${day(-20)}T12:00:00Z` }).expect(201);
    await action(t, ADMIN_TOKEN, given.allocationId, 'amend').expect(200);
    await patch(given.allocationId, { start_date: day(-10), end_date: day(200) }).expect(200);
    await replaceBudgetQuota(given.allocationId, 2000);
    await action(t, ADMIN_TOKEN, given.allocationId, 'approve').expect(200);
    await settleBudgets(t);
    const current = (await budget('p-4').expect(200)).body;
    expect(current).toMatchObject({ period: { start: startOf(day(-10)), end: startOf(day(200)) }, granted: '2000.000000', consumed: '40.000000' });
    const old = (await budget('p-4', { period_start: day(-30) }).expect(200)).body;
    expect(old).toMatchObject({ period: { start: startOf(day(-30)), end: startOf(day(-10)) }, granted: '1000.000000', consumed: '7.000000' });
    const oldEntries = (await ledger('p-4', { period_start: day(-30) }).expect(200)).body.entries;
    expect(oldEntries.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
      ['grant', '1000.000000'],
      ['manual_debit', '-40.000000'],
      ['manual_debit', '-7.000000'],
      ['manual_credit', '40.000000'],
    ]);
    const newEntries = (await ledger('p-4').expect(200)).body.entries;
    expect(newEntries.map((e: { kind: string; amount: string; at: string }) => [e.kind, e.amount, e.at])).toEqual([
      ['grant', '2000.000000', startOf(day(-10))],
      ['manual_debit', '-40.000000', `${day(-5)}T12:00:00.000Z`],
    ]);
  });

  it('-1 grants nothing: an approval with only unlimited budget entries has no budget', async () => {
    await expect(givenApprovedBudget(t, 'p-5', -1, { start_date: day(-1), end_date: day(10) })).rejects.toThrow(/no budget/);
    await budget('p-5').expect(404);
    expect((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_budget WHERE project_id = 'p-5'`))[0].n).toBe(0);
  });

  it('no budget for an approval without a rating.budget entry, nor for one whose end_date is not after its start_date', async () => {
    const { site, resource, zone } = await ensureBudgetCatalogue(t);
    const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'no-budget', project_id: 'p-6', associated_site: site, start_date: day(-1), end_date: day(10) });
    await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
    const c = await createAllocation(t, ADMIN_TOKEN, { project_name: 'same-day', project_id: 'p-6b', associated_site: site, start_date: day(-1), end_date: day(-1) });
    await t.http.post(`${ROOT}/quotas/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: c.id, resource, zone, quota: 10, requested_quota: 10 })).expect(201);
    await action(t, ADMIN_TOKEN, c.id, 'approve').expect(200);
    await settleBudgets(t);
    await budget('p-6').expect(404);
    await budget('p-6b').expect(404);
    expect((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_budget`))[0].n).toBe(0);
  });

  it('a withdrawn approval (deleted allocation) leaves no current budget; the past one stays readable', async () => {
    const given = await givenApprovedBudget(t, 'p-7', 300, { start_date: day(-10), end_date: day(50) });
    await action(t, ADMIN_TOKEN, given.allocationId, 'delete').expect(200);
    await settleBudgets(t);
    await budget('p-7').expect(404);
    const past = (await budget('p-7', { period_start: day(-10) }).expect(200)).body;
    expect(past.granted).toBe('300.000000');
    expect(Date.parse(past.period.end)).toBeLessThanOrEqual(Date.now());
    expect((await t.http.get('/reports/budgets').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body.budgets).toEqual([]);
  });

  it('a budget no approval made (written directly) is left alone when its project has no approval in force', async () => {
    await seedBudget(t.app, 'p-seed', '50');
    const { site } = await ensureBudgetCatalogue(t);
    await createAllocation(t, ADMIN_TOKEN, { project_name: 'unapproved', project_id: 'p-seed', associated_site: site, start_date: day(-1), end_date: day(10) });
    await settleBudgets(t);
    expect((await budget('p-seed').expect(200)).body).toMatchObject({ granted: '50.000000', period: { start: '2020-01-01T00:00:00.000Z', end: '2100-01-01T00:00:00.000Z' } });
  });
});
