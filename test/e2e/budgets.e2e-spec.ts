import { parseCsv } from '../support/csv';
import { givenApprovedBudget, seedBudget, settleBudgets } from '../support/budgets';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/** `YYYY-MM-DD` of today (UTC, the suite's REPORT_TIME_ZONE) plus `days`. */
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const startOf = (date: string) => `${date}T00:00:00.000Z`;
const FAR = { start: '2020-01-01T00:00:00.000Z', end: '2100-01-01T00:00:00.000Z' };

/** The budget routes of reports.md 6.5, on budgets seeded through the ledger (their derivation is budgets-derivation.e2e-spec.ts). */
describe('budget routes (reports.md 6.5)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC', BUDGET_THRESHOLDS: '80,100,120' });

  const as = (token: string) => ({
    get: (path: string, query: Record<string, string | string[]> = {}) => t.http.get(path).query(query).set('X-Auth-Token', token),
  });
  const admin = as(ADMIN_TOKEN);
  const entry = (projectId: string, body: Record<string, unknown>, token = ADMIN_TOKEN) =>
    t.http.post(`/admin/reports/budgets/${encodeURIComponent(projectId)}/entries`).set('X-Auth-Token', token).send(body);
  const policy = (projectId: string, body: unknown, token = ADMIN_TOKEN) => t.http.put(`/admin/reports/budgets/${projectId}/policy`).set('X-Auth-Token', token).send(body as object);
  const sql = (text: string, params: unknown[] = []) => t.runtime.dataSource.query(text, params);

  describe('GET /reports/budgets/{project_id}', () => {
    it('answers the budget object of 6.5 with every field', async () => {
      await seedBudget(t.app, 'p-1', '1000', FAR);
      await entry('p-1', { kind: 'manual_debit', amount: '250.5', reason: 'use' }).expect(201);
      const b = (await admin.get('/reports/budgets/p-1').expect(200)).body;
      expect(Object.keys(b)).toEqual([
        'project_id', 'unit', 'allocation_id', 'period', 'granted', 'consumed', 'held', 'available', 'accrued_today', 'outside_period',
        'ratio', 'state', 'policy', 'thresholds', 'burn_rate_per_day', 'forecast_exhausted_at', 'as_of', 'lag_seconds',
      ]);
      expect(b).toMatchObject({
        project_id: 'p-1', unit: 'SU', allocation_id: null, period: FAR, granted: '1000.000000', consumed: '250.500000', held: '0.000000',
        available: '749.500000', accrued_today: '0.000000', outside_period: '0.000000', ratio: '0.250500', state: 'ok',
        policy: { thresholds: [80, 100, 120], overdraft: '0.000000' },
        thresholds: [80, 100, 120].map((percent) => ({ percent, crossed_at: null, event_id: null })),
        burn_rate_per_day: '0.000000', forecast_exhausted_at: null,
      });
      expect(b.as_of).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Number.isInteger(b.lag_seconds) && b.lag_seconds >= 0).toBe(true);
    });

    it('states warning at the lowest threshold, exhausted at granted, overdrawn below −overdraft (6.3)', async () => {
      await seedBudget(t.app, 'p-s', '100', FAR);
      const state = async () => (await admin.get('/reports/budgets/p-s').expect(200)).body.state;
      await entry('p-s', { kind: 'manual_debit', amount: '79.999999', reason: 'x' }).expect(201);
      expect(await state()).toBe('ok');
      await entry('p-s', { kind: 'manual_debit', amount: '0.000001', reason: 'x' }).expect(201);
      expect(await state()).toBe('warning');
      await policy('p-s', { thresholds: [90] }).expect(200);
      expect(await state()).toBe('ok');
      await entry('p-s', { kind: 'manual_debit', amount: '20', reason: 'x' }).expect(201);
      expect(await state()).toBe('exhausted');
      await entry('p-s', { kind: 'manual_debit', amount: '0.5', reason: 'x' }).expect(201);
      expect(await state()).toBe('overdrawn');
      await policy('p-s', { overdraft: '0.5' }).expect(200);
      expect(await state()).toBe('exhausted');
      await entry('p-s', { kind: 'manual_grant', amount: '100', reason: 'more' }).expect(201);
      const b = (await admin.get('/reports/budgets/p-s').expect(200)).body;
      expect(b).toMatchObject({ granted: '200.000000', consumed: '100.500000', ratio: '0.502500', state: 'ok' });
    });

    it('a budget granted nothing is exhausted with a null ratio', async () => {
      await seedBudget(t.app, 'p-0', '0', FAR);
      expect((await admin.get('/reports/budgets/p-0').expect(200)).body).toMatchObject({ ratio: null, state: 'exhausted' });
    });

    it('shows the current arming of each threshold: crossed_at and event_id until re-armed', async () => {
      const { id } = await seedBudget(t.app, 'p-a', '100', FAR);
      const [e1] = await sql(`INSERT INTO report_event (type, project_id, data) VALUES ('budget.threshold_crossed', 'p-a', '{}') RETURNING id::text AS id`);
      const [e2] = await sql(`INSERT INTO report_event (type, project_id, data) VALUES ('budget.threshold_rearmed', 'p-a', '{}') RETURNING id::text AS id`);
      const [e3] = await sql(`INSERT INTO report_event (type, project_id, data) VALUES ('budget.threshold_crossed', 'p-a', '{}') RETURNING id::text AS id`);
      await sql(`INSERT INTO report_budget_arming VALUES ($1, 80, 1, '2025-01-02T03:04:05Z', $2, '2025-01-03T00:00:00Z', $3), ($1, 80, 2, '2025-01-04T00:00:00Z', $4, NULL, NULL), ($1, 100, 1, '2025-01-05T00:00:00Z', $2, '2025-01-06T00:00:00Z', $3)`, [
        id, e1.id, e2.id, e3.id,
      ]);
      expect((await admin.get('/reports/budgets/p-a').expect(200)).body.thresholds).toEqual([
        { percent: 80, crossed_at: '2025-01-04T00:00:00.000Z', event_id: e3.id },
        { percent: 100, crossed_at: null, event_id: null },
        { percent: 120, crossed_at: null, event_id: null },
      ]);
    });

    it('burn_rate_per_day is the last 14 complete days ÷ 14; forecast_exhausted_at is as_of + available ÷ rate, to the second', async () => {
      await seedBudget(t.app, 'p-f', '1400', FAR);
      await entry('p-f', { kind: 'manual_debit', amount: '150', reason: 'x', at: `${day(-3)}T10:00:00Z` }).expect(201);
      await entry('p-f', { kind: 'manual_credit', amount: '10', reason: 'x', at: `${day(-14)}T00:00:00Z` }).expect(201);
      await entry('p-f', { kind: 'manual_debit', amount: '999', reason: 'outside the 14 days', at: `${day(-15)}T23:00:00Z` }).expect(201);
      await entry('p-f', { kind: 'manual_credit', amount: '999', reason: 'today does not count', at: new Date().toISOString() }).expect(201);
      const b = (await admin.get('/reports/budgets/p-f').expect(200)).body;
      expect(b.burn_rate_per_day).toBe('10.000000');
      expect(b.available).toBe('1260.000000');
      expect(b.forecast_exhausted_at).toBe(new Date(Math.floor(Date.parse(b.as_of) / 1000) * 1000 + 126 * 86_400_000).toISOString());
    });

    it('forecast_exhausted_at is null when it falls after the period end', async () => {
      await seedBudget(t.app, 'p-g', '1400', { start: startOf(day(-20)), end: startOf(day(20)) });
      await entry('p-g', { kind: 'manual_debit', amount: '140', reason: 'x', at: `${day(-2)}T10:00:00Z` }).expect(201);
      expect((await admin.get('/reports/budgets/p-g').expect(200)).body).toMatchObject({ burn_rate_per_day: '10.000000', forecast_exhausted_at: null });
    });

    it('series=day: one element per local day from the period start to today, consumed and consumed_to_date', async () => {
      await seedBudget(t.app, 'p-d', '100', { start: startOf(day(-3)), end: startOf(day(10)) });
      await entry('p-d', { kind: 'manual_debit', amount: '5', reason: 'x', at: `${day(-2)}T12:00:00Z` }).expect(201);
      await entry('p-d', { kind: 'manual_credit', amount: '1.5', reason: 'x', at: `${day(0)}T00:00:00Z` }).expect(201);
      const b = (await admin.get('/reports/budgets/p-d', { series: 'day' }).expect(200)).body;
      expect(b.series).toEqual([
        { day: day(-3), consumed: '0.000000', consumed_to_date: '0.000000' },
        { day: day(-2), consumed: '5.000000', consumed_to_date: '5.000000' },
        { day: day(-1), consumed: '0.000000', consumed_to_date: '5.000000' },
        { day: day(0), consumed: '-1.500000', consumed_to_date: '3.500000' },
      ]);
      expect((await admin.get('/reports/budgets/p-d').expect(200)).body.series).toBeUndefined();
    });

    it('404 without a current budget, also when the latest has ended; period_start (bare date or instant) reads an earlier one', async () => {
      await admin.get('/reports/budgets/nobody').expect(404);
      await seedBudget(t.app, 'p-e', '10', { start: '2024-01-01T00:00:00.000Z', end: '2024-07-01T00:00:00.000Z' });
      const res = await admin.get('/reports/budgets/p-e').expect(404);
      expect(res.body.error).toEqual(expect.any(String));
      expect((await admin.get('/reports/budgets/p-e', { period_start: '2024-01-01' }).expect(200)).body.period.end).toBe('2024-07-01T00:00:00.000Z');
      await admin.get('/reports/budgets/p-e', { period_start: '2024-01-01T01:00:00+01:00' }).expect(200);
      await admin.get('/reports/budgets/p-e', { period_start: '2024-01-02' }).expect(404);
    });

    it('400 for a bad period_start, series or unknown parameter, naming the field', async () => {
      await seedBudget(t.app, 'p-v', '10', FAR);
      expect((await admin.get('/reports/budgets/p-v', { period_start: '2024-01-01T00:00:00' }).expect(400)).body.error).toBe('period_start: needs Z or an offset');
      expect((await admin.get('/reports/budgets/p-v', { period_start: '2024-13-45' }).expect(400)).body.fields).toHaveProperty('period_start');
      expect((await admin.get('/reports/budgets/p-v', { series: 'week' }).expect(400)).body.error).toBe('series: must be day');
      expect((await admin.get('/reports/budgets/p-v', { serie: 'day' }).expect(400)).body.error).toBe('serie: not a known parameter');
    });

    it('roles: every role reads; a user only its own projects (403 otherwise, whether or not a budget exists); no token 401', async () => {
      await seedBudget(t.app, 'p-u', '10', FAR);
      await seedBudget(t.app, 'p-other', '10', FAR);
      for (const role of ['reader', 'service'] as const) await as(await t.token(role, { name: `${role}-x` })).get('/reports/budgets/p-u').expect(200);
      const user = as(await t.token('user', { projectIds: ['p-u', 'p-none'] }));
      await user.get('/reports/budgets/p-u').expect(200);
      await user.get('/reports/budgets/p-none').expect(404);
      await user.get('/reports/budgets/p-other').expect(403);
      await user.get('/reports/budgets/p-nothing').expect(403);
      await user.get('/reports/budgets/p-other/ledger').expect(403);
      await t.http.get('/reports/budgets/p-u').expect(401);
    });

    it('an approved allocation (givenApprovedBudget) gives its allocation_id and period', async () => {
      const given = await givenApprovedBudget(t, 'p-alloc', 1200, { start_date: day(-2), end_date: day(30) });
      const b = (await admin.get('/reports/budgets/p-alloc').expect(200)).body;
      expect(b).toMatchObject({ allocation_id: given.allocationId, granted: '1200.000000', period: { start: startOf(day(-2)), end: startOf(day(30)) } });
      await settleBudgets(t);
    });
  });

  describe('GET /reports/budgets', () => {
    beforeEach(async () => {
      for (const [p, granted] of [['p-c', '100'], ['p-a', '100'], ['p-B', '100'], ['p-b', '0']] as const) await seedBudget(t.app, p, granted, FAR);
      await seedBudget(t.app, 'p-ended', '100', { start: '2024-01-01T00:00:00.000Z', end: '2024-02-01T00:00:00.000Z' });
      await entry('p-a', { kind: 'manual_debit', amount: '85', reason: 'x' }).expect(201);
    });

    it('lists every budget in its current period by project id in byte order; filters state and project_id', async () => {
      const all = (await admin.get('/reports/budgets').expect(200)).body;
      expect(all.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-B', 'p-a', 'p-b', 'p-c']);
      expect(all.next_cursor).toBeNull();
      expect((await admin.get('/reports/budgets', { state: 'warning' }).expect(200)).body.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-a']);
      expect((await admin.get('/reports/budgets', { state: 'exhausted' }).expect(200)).body.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-b']);
      expect((await admin.get('/reports/budgets', { project_id: 'p-c,p-ended' }).expect(200)).body.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-c']);
    });

    it('pages with limit and cursor (state filter too); a cursor of other parameters, a limit over 10000, an unknown state are 400', async () => {
      const first = (await admin.get('/reports/budgets', { limit: '3' }).expect(200)).body;
      expect(first.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-B', 'p-a', 'p-b']);
      const second = (await admin.get('/reports/budgets', { limit: '3', cursor: first.next_cursor }).expect(200)).body;
      expect(second).toMatchObject({ budgets: [expect.objectContaining({ project_id: 'p-c' })], next_cursor: null });
      const ok1 = (await admin.get('/reports/budgets', { state: 'ok', limit: '1' }).expect(200)).body;
      expect(ok1.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-B']);
      const ok2 = (await admin.get('/reports/budgets', { state: 'ok', limit: '1', cursor: ok1.next_cursor }).expect(200)).body;
      expect(ok2).toMatchObject({ budgets: [expect.objectContaining({ project_id: 'p-c' })], next_cursor: null });
      expect((await admin.get('/reports/budgets', { state: 'ok', cursor: first.next_cursor }).expect(400)).body.error).toBe('cursor: belongs to a query with other parameters');
      expect((await admin.get('/reports/budgets', { limit: '10001' }).expect(400)).body.error).toBe('limit: must be a whole number from 1 to 10000');
      expect((await admin.get('/reports/budgets', { state: 'broke' }).expect(400)).body.fields).toHaveProperty('state');
      expect((await admin.get('/reports/budgets', { project: 'p-a' }).expect(400)).body.error).toBe('project: not a known parameter');
    });

    it('a user sees its own projects only; naming another is 403', async () => {
      const user = as(await t.token('user', { projectIds: ['p-a', 'p-c'] }));
      expect((await user.get('/reports/budgets').expect(200)).body.budgets.map((b: { project_id: string }) => b.project_id)).toEqual(['p-a', 'p-c']);
      await user.get('/reports/budgets', { project_id: 'p-b' }).expect(403);
      const none = as(await t.token('user', { projectIds: [], name: 'nobody' }));
      expect((await none.get('/reports/budgets').expect(200)).body.budgets).toEqual([]);
    });

    it('CSV: header and one row per budget, nested fields flattened, lists as JSON text; no paging', async () => {
      const res = await admin.get('/reports/budgets', { format: 'csv', state: 'warning' }).expect(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe('attachment; filename="budgets.csv"');
      const rows = parseCsv(res.text);
      expect(rows[0]).toEqual([
        'project_id', 'unit', 'allocation_id', 'period.start', 'period.end', 'granted', 'consumed', 'held', 'available', 'accrued_today', 'outside_period',
        'ratio', 'state', 'policy.thresholds', 'policy.overdraft', 'thresholds', 'burn_rate_per_day', 'forecast_exhausted_at', 'as_of', 'lag_seconds',
      ]);
      expect(rows).toHaveLength(2);
      const row = Object.fromEntries(rows[0].map((c, i) => [c, rows[1][i]]));
      expect(row).toMatchObject({ project_id: 'p-a', allocation_id: '', 'period.start': FAR.start, consumed: '85.000000', ratio: '0.850000', state: 'warning', 'policy.thresholds': '[80,100,120]' });
      // 85 of 100 consumed: the 80 % threshold is crossed (its event written with the debit, 6.6), the others not.
      expect(JSON.parse(row.thresholds)).toEqual([
        { percent: 80, crossed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), event_id: expect.stringMatching(/^\d+$/) },
        { percent: 100, crossed_at: null, event_id: null },
        { percent: 120, crossed_at: null, event_id: null },
      ]);
      const accept = await t.http.get('/reports/budgets').set('X-Auth-Token', ADMIN_TOKEN).set('Accept', 'text/csv').expect(200);
      expect(parseCsv(accept.text)).toHaveLength(5);
      expect((await admin.get('/reports/budgets', { format: 'csv', limit: '2' }).expect(400)).body.error).toBe('limit: not accepted with CSV: an export has no pages');
    });
  });

  describe('GET /reports/budgets/{project_id}/ledger', () => {
    it('answers entries oldest first with their fields, paged, within a window on posted_at, of the budget period_start names', async () => {
      await seedBudget(t.app, 'p-l', '100', FAR);
      await seedBudget(t.app, 'p-l', '5', { start: '2010-01-01T00:00:00.000Z', end: '2011-01-01T00:00:00.000Z' });
      const made = [];
      for (let i = 1; i <= 3; i++) made.push((await entry('p-l', { kind: 'manual_debit', amount: String(i), reason: `r${i}` }).expect(201)).body);
      const all = (await admin.get('/reports/budgets/p-l/ledger').expect(200)).body;
      expect(all.entries.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
        ['grant', '100.000000'], ['manual_debit', '-1.000000'], ['manual_debit', '-2.000000'], ['manual_debit', '-3.000000'],
      ]);
      expect(Object.keys(all.entries[1])).toEqual(['id', 'kind', 'amount', 'at', 'posted_at', 'ref', 'actor', 'reason']);
      expect(all.entries[1]).toEqual(made[0]);
      expect(all.entries[1]).toMatchObject({ id: expect.stringMatching(/^le_\d+$/), ref: null, actor: 'admin', reason: 'r1' });
      const p1 = (await admin.get('/reports/budgets/p-l/ledger', { limit: '3' }).expect(200)).body;
      const p2 = (await admin.get('/reports/budgets/p-l/ledger', { limit: '3', cursor: p1.next_cursor }).expect(200)).body;
      expect([...p1.entries, ...p2.entries]).toEqual(all.entries);
      expect(p2.next_cursor).toBeNull();
      const windowed = (await admin.get('/reports/budgets/p-l/ledger', { start: made[1].posted_at, end: '2100-01-01' }).expect(200)).body;
      expect(windowed.entries.map((e: { reason: string }) => e.reason)).toEqual(['r2', 'r3']);
      const old = (await admin.get('/reports/budgets/p-l/ledger', { period_start: '2010-01-01' }).expect(200)).body;
      expect(old.entries.map((e: { amount: string }) => e.amount)).toEqual(['5.000000']);
    });

    it('CSV with the route and window in the file name; 404 and 400 as the budget route', async () => {
      await seedBudget(t.app, 'p/x', '100', FAR);
      const res = await admin.get('/reports/budgets/p%2Fx/ledger', { format: 'csv', period: '2020' }).expect(200);
      expect(res.headers['content-disposition']).toBe('attachment; filename="budgets-p_x-ledger-2020.csv"');
      expect(parseCsv(res.text)).toEqual([['id', 'kind', 'amount', 'at', 'posted_at', 'ref', 'actor', 'reason']]);
      const all = parseCsv((await admin.get('/reports/budgets/p%2Fx/ledger', { format: 'csv' }).expect(200)).text);
      expect(all[1]).toEqual([expect.stringMatching(/^le_/), 'grant', '100.000000', FAR.start, expect.any(String), '', 'system', '']);
      await admin.get('/reports/budgets/none/ledger').expect(404);
      expect((await admin.get('/reports/budgets/p%2Fx/ledger', { start: '2024-01-01' }).expect(400)).body.error).toBe('end: required (or give period)');
      expect((await admin.get('/reports/budgets/p%2Fx/ledger', { format: 'csv', cursor: 'x' }).expect(400)).body.fields).toHaveProperty('cursor');
      expect((await admin.get('/reports/budgets/p%2Fx/ledger', { cursor: 'nonsense' }).expect(400)).body.fields).toHaveProperty('cursor');
    });
  });

  describe('POST /admin/reports/budgets/{project_id}/entries', () => {
    it('posts each manual kind with the sign of its kind, at now by default, actor the token name', async () => {
      await seedBudget(t.app, 'p-m', '100', FAR);
      const g = (await entry('p-m', { kind: 'manual_grant', amount: 10, reason: 'bonus' }).expect(201)).body;
      expect(g).toMatchObject({ kind: 'manual_grant', amount: '10.000000', actor: 'admin', reason: 'bonus', ref: null });
      expect(Math.abs(Date.parse(g.at) - Date.now())).toBeLessThan(600_000);
      expect((await entry('p-m', { kind: 'manual_debit', amount: '0.000001', reason: 'x' }).expect(201)).body.amount).toBe('-0.000001');
      expect((await entry('p-m', { kind: 'manual_credit', amount: '2.5', reason: 'x', at: '2021-06-01' }).expect(201)).body).toMatchObject({ amount: '2.500000', at: '2021-06-01T00:00:00.000Z' });
      expect((await admin.get('/reports/budgets/p-m').expect(200)).body).toMatchObject({ granted: '110.000000', consumed: '-2.499999' });
    });

    it('400 naming the field: kind, amount (> 0, 6 places, no exponent), reason, at, unknown fields and query parameters', async () => {
      await seedBudget(t.app, 'p-m', '100', FAR);
      const error = async (body: Record<string, unknown>) => (await entry('p-m', body).expect(400)).body.error;
      expect(await error({ kind: 'grant', amount: '1', reason: 'x' })).toBe('kind: must be one of manual_grant, manual_credit, manual_debit');
      expect(await error({ kind: 'manual_grant', amount: '0', reason: 'x' })).toBe('amount: must be > 0');
      expect(await error({ kind: 'manual_grant', amount: -1, reason: 'x' })).toBe('amount: must be > 0');
      expect(await error({ kind: 'manual_grant', amount: '1.0000001', reason: 'x' })).toBe('amount: must have at most 6 fractional digits');
      expect(await error({ kind: 'manual_grant', reason: 'x' })).toBe('amount: is required');
      expect(await error({ kind: 'manual_grant', amount: '1' })).toBe('reason: is required');
      expect(await error({ kind: 'manual_grant', amount: '1', reason: '  ' })).toBe('reason: must not be empty');
      expect(await error({ kind: 'manual_grant', amount: '1', reason: 'x', at: '2025-01-01T00:00:00' })).toBe('at: needs Z or an offset');
      expect(await error({ kind: 'manual_grant', amount: '1', reason: 'x', extra: 1 })).toBe('extra: not a known field');
      expect((await t.http.post('/admin/reports/budgets/p-m/entries?x=1').set('X-Auth-Token', ADMIN_TOKEN).send({ kind: 'manual_grant', amount: '1', reason: 'x' })).status).toBe(400);
      expect((await entry('p-m', { kind: 'manual_grant', amount: '1e3', reason: 'x' }).expect(400)).body.error).toBe('amount: must be a plain decimal, without an exponent');
      const raw = await t.http.post('/admin/reports/budgets/p-m/entries').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send('{"kind": "manual_grant", "amount": 1e3, "reason": "x"}');
      expect(raw.status).toBe(400);
      expect(raw.body.error).toBe('amount: must be a plain decimal, without an exponent');
      const exact = await t.http.post('/admin/reports/budgets/p-m/entries').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send('{"kind": "manual_grant", "amount": 0.100001, "reason": "x"}');
      expect(exact.body.amount).toBe('0.100001');
    });

    it('404 when at falls in no budget period of the project, or it has none; admin only', async () => {
      await seedBudget(t.app, 'p-m', '100', { start: startOf(day(-5)), end: startOf(day(5)) });
      await entry('p-m', { kind: 'manual_grant', amount: '1', reason: 'x', at: '2020-01-01T00:00:00Z' }).expect(404);
      await entry('p-none', { kind: 'manual_grant', amount: '1', reason: 'x' }).expect(404);
      for (const role of ['reader', 'service', 'user'] as const) await entry('p-m', { kind: 'manual_grant', amount: '1', reason: 'x' }, await t.token(role, { name: `${role}-w`, projectIds: ['p-m'] })).expect(403);
      await t.http.post('/admin/reports/budgets/p-m/entries').send({ kind: 'manual_grant', amount: '1', reason: 'x' }).expect(401);
      expect((await admin.get('/reports/budgets/p-m/ledger').expect(200)).body.entries).toHaveLength(1);
    });

    it('an Idempotency-Key repeat answers the first entry again and posts nothing more', async () => {
      await seedBudget(t.app, 'p-m', '100', FAR);
      const send = (amount: string) =>
        t.http.post('/admin/reports/budgets/p-m/entries').set('X-Auth-Token', ADMIN_TOKEN).set('Idempotency-Key', 'k-1').send({ kind: 'manual_debit', amount, reason: 'once' });
      const first = (await send('3').expect(201)).body;
      expect((await send('3').expect(201)).body).toEqual(first);
      await send('4').expect(409);
      expect((await admin.get('/reports/budgets/p-m').expect(200)).body.consumed).toBe('3.000000');
    });
  });

  describe('PUT /admin/reports/budgets/{project_id}/policy', () => {
    it('answers the policy with thresholds ascending; absent fields are the defaults; {} resets; it may precede any budget', async () => {
      expect((await policy('p-p', { thresholds: [120, 50, 90], overdraft: 25 }).expect(200)).body).toEqual({ thresholds: [50, 90, 120], overdraft: '25.000000' });
      expect((await policy('p-p', { overdraft: '1.5' }).expect(200)).body).toEqual({ thresholds: [80, 100, 120], overdraft: '1.500000' });
      await seedBudget(t.app, 'p-p', '10', FAR);
      expect((await admin.get('/reports/budgets/p-p').expect(200)).body.policy).toEqual({ thresholds: [80, 100, 120], overdraft: '1.500000' });
      expect((await policy('p-p', {}).expect(200)).body).toEqual({ thresholds: [80, 100, 120], overdraft: '0.000000' });
      expect((await sql(`SELECT count(*)::int AS n FROM report_budget_policy`))[0].n).toBe(0);
    });

    it('400 for thresholds not 1 to 10 distinct whole numbers from 1 to 1000, a negative overdraft, unknown fields; admin only', async () => {
      const error = async (body: unknown) => (await policy('p-p', body).expect(400)).body.error;
      expect(await error({ thresholds: [] })).toBe('thresholds: must hold 1 to 10 thresholds');
      expect(await error({ thresholds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] })).toBe('thresholds: must hold 1 to 10 thresholds');
      expect(await error({ thresholds: [80, 80] })).toBe('thresholds: must be distinct');
      expect(await error({ thresholds: [0] })).toBe('thresholds: must be whole numbers from 1 to 1000');
      expect(await error({ thresholds: [1001] })).toBe('thresholds: must be whole numbers from 1 to 1000');
      expect(await error({ thresholds: [80.5] })).toBe('thresholds: must be whole numbers from 1 to 1000');
      expect(await error({ thresholds: '80' })).toBe('thresholds: must be a list of whole numbers from 1 to 1000');
      expect(await error({ overdraft: '-1' })).toBe('overdraft: must be ≥ 0');
      expect(await error({ overdrawn: '1' })).toBe('overdrawn: not a known field');
      for (const role of ['reader', 'service', 'user'] as const) await policy('p-p', {}, await t.token(role, { name: `${role}-p` })).expect(403);
      expect((await policy('p-p', [1000, 1]).expect(400)).status).toBe(400);
    });
  });
});
