import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { BudgetLedgerService } from '../../src/reports/budgets/ledger/budget-ledger.service';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { seedBudget } from '../support/budgets';
import { createPriceList } from '../support/pricing';
import { almanach, drainRollups } from '../support/reports';
import { until } from '../support/processes';
import { APP_START_TIMEOUT_MS, realServers, TestApp } from '../support/test-app';

/**
 * Budget holds (reports.md 6.4; §13 item 17) through HTTP: hold → settle →
 * release / refund, the balance check under the budget's row lock (with
 * accrued_today and the policy's overdraft), idempotency by reference, the
 * AMIE record refusals, roles, and the expiry loop. The app consumes the
 * queue (BullMQ worker in this process with REDIS_URL, the in-process queue
 * without), so the expiry loop runs as it does in a worker.
 */
if (!realServers.database) console.log('budget-holds: the AMIE record race skipped, DATABASE_URL is not set (it orders two transactions behind a third on real PostgreSQL)');

describe('budget holds (6.4)', () => {
  let t: TestApp;
  let db: DataSource;
  let service: string;

  beforeAll(async () => {
    t = await startUsageApp();
    db = t.app.get(DataSource);
  }, APP_START_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    await t.reset();
    service = await t.token('service', { name: 'scheduler' });
  });

  const holds = (project: string) => `/reports/budgets/${encodeURIComponent(project)}/holds`;
  const place = (project: string, body: unknown, token = service) => t.http.post(holds(project)).set('X-Auth-Token', token).send(body as object);
  const act = (project: string, id: string, action: 'settle' | 'release' | 'refund', body?: unknown, token = service) => {
    const req = t.http.post(`${holds(project)}/${id}/${action}`).set('X-Auth-Token', token);
    return body === undefined ? req : req.send(body as object);
  };
  const budgetOf = async (project: string) => {
    const [row] = await db.query(`SELECT granted::text, consumed::text, held::text FROM report_budget WHERE project_id = $1`, [project]);
    return row as { granted: string; consumed: string; held: string };
  };
  const entriesOf = async (holdId: string) =>
    (await db.query(`SELECT kind, amount::text, ref, actor, reason FROM report_budget_entry WHERE hold_id = $1 ORDER BY id`, [holdId])) as {
      kind: string;
      amount: string;
      ref: string;
      actor: string;
      reason: string | null;
    }[];
  const balanced = async (budgetId: string) => expect(await t.app.get(BudgetLedgerService, { strict: false }).verifyBalance(db, budgetId)).toEqual([]);

  it('creates a hold: 201, the hold object, a `hold` entry by the token, and the budget holds it', async () => {
    const budget = await seedBudget(t.app, 'p-1', '100');
    const before = Date.now();
    const res = await place('p-1', { amount: '10', reference: 'job-1', description: 'slurm job 1' }).expect(201);
    expect(Object.keys(res.body).sort()).toEqual(
      ['id', 'project_id', 'amount', 'reference', 'state', 'settled_amount', 'refunded_amount', 'created_at', 'expires_at', 'resolved_at', 'amie_record', 'description'].sort(),
    );
    expect(res.body).toMatchObject({
      project_id: 'p-1',
      amount: '10.000000',
      reference: 'job-1',
      state: 'held',
      settled_amount: null,
      refunded_amount: '0.000000',
      resolved_at: null,
      amie_record: null,
      description: 'slurm job 1',
    });
    expect(res.body.id).toMatch(/^hold_[0-9A-Z]{26}$/);
    // Default expiry: now + HOLD_TTL_HOURS (168).
    const ttl = Date.parse(res.body.expires_at) - Date.parse(res.body.created_at);
    expect(ttl).toBe(168 * 3_600_000);
    expect(Date.parse(res.body.created_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(await entriesOf(res.body.id)).toEqual([{ kind: 'hold', amount: '-10.000000', ref: `hold:${res.body.id}`, actor: 'scheduler', reason: null }]);
    expect(await budgetOf('p-1')).toEqual({ granted: '100.000000', consumed: '0.000000', held: '10.000000' });
    await balanced(budget.id);
    const got = await t.http.get(`${holds('p-1')}/${res.body.id}`).set('X-Auth-Token', service).expect(200);
    expect(got.body).toEqual(res.body);
  });

  it('lets exactly as many of 20 concurrent holds of 10 succeed as 100 available allows: 10 are 201, 10 are 409', async () => {
    const budget = await seedBudget(t.app, 'p-race', '100');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => place('p-race', { amount: '10', reference: `race-${i}` })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(10);
    for (const refused of answers.filter((r) => r.status === 409)) {
      expect(refused.body).toEqual({ error: 'Insufficient budget', available: '0.000000', requested: '10.000000' });
    }
    expect(await budgetOf('p-race')).toMatchObject({ held: '100.000000' });
    await balanced(budget.id);
  });

  describe('idempotency by reference', () => {
    it('answers 200 and the same hold to a repeat with the same body, whatever its state; another body is 409', async () => {
      await seedBudget(t.app, 'p-idem', '100');
      const body = { amount: '10', reference: 'job-7', expires_at: new Date(Date.now() + 3_600_000).toISOString(), amie_record: { site: 's', resource: 'r', local_record_id: 'j7' } };
      const first = await place('p-idem', body).expect(201);
      const again = await place('p-idem', body).expect(200);
      expect(again.body).toEqual(first.body);
      // The same value written otherwise (a JSON number, more zeros, keys in another order) is the same body.
      const raw = `{"reference": "job-7", "amie_record": {"local_record_id": "j7", "resource": "r", "site": "s"}, "expires_at": "${body.expires_at}", "amount": 10.000, "force": false}`;
      const same = await t.http.post(holds('p-idem')).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(raw).expect(200);
      expect(same.body.id).toBe(first.body.id);
      const other = await place('p-idem', { ...body, amount: '11' }).expect(409);
      expect(other.body.error).toMatch(/^reference: /);
      await place('p-idem', { ...body, description: 'changed' }).expect(409);
      expect(await budgetOf('p-idem')).toMatchObject({ held: '10.000000' });
      await act('p-idem', first.body.id, 'settle').expect(200);
      const settled = await place('p-idem', body).expect(200);
      expect(settled.body).toMatchObject({ id: first.body.id, state: 'settled' });
      // The same reference in another project is another hold.
      await seedBudget(t.app, 'p-idem-2', '100');
      await place('p-idem-2', { ...body, amie_record: undefined }).expect(201);
    });

    it('holds once for simultaneous repeats of a reference: one 201, the others 200 with the same hold', async () => {
      const budget = await seedBudget(t.app, 'p-rep', '100');
      const answers = await Promise.all(Array.from({ length: 8 }, () => place('p-rep', { amount: '60', reference: 'same' })));
      expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
      expect(await budgetOf('p-rep')).toMatchObject({ held: '60.000000' });
      await balanced(budget.id);
    });
  });

  describe('settle, release, refund', () => {
    it('settles 15 on a 10 hold: hold_release +10 and hold_settle −15; a second settle is 409', async () => {
      const budget = await seedBudget(t.app, 'p-set', '100');
      const { body: hold } = await place('p-set', { amount: '10', reference: 'j' }).expect(201);
      const res = await act('p-set', hold.id, 'settle', { amount: '15' }).expect(200);
      expect(res.body).toMatchObject({ id: hold.id, state: 'settled', settled_amount: '15.000000', refunded_amount: '0.000000' });
      expect(res.body.resolved_at).toEqual(expect.any(String));
      expect((await entriesOf(hold.id)).map((e) => [e.kind, e.amount, e.actor])).toEqual([
        ['hold', '-10.000000', 'scheduler'],
        ['hold_release', '10.000000', 'scheduler'],
        ['hold_settle', '-15.000000', 'scheduler'],
      ]);
      expect(await budgetOf('p-set')).toEqual({ granted: '100.000000', consumed: '15.000000', held: '0.000000' });
      const twice = await act('p-set', hold.id, 'settle', { amount: '1' }).expect(409);
      expect(twice.body.error).toMatch(/is settled/);
      await act('p-set', hold.id, 'release').expect(409);
      await balanced(budget.id);
    });

    it('settles the held amount by default, even with the balance overdrawn, and 0 when the job cost nothing', async () => {
      await seedBudget(t.app, 'p-def', '10');
      const { body: a } = await place('p-def', { amount: '10', reference: 'a' }).expect(201);
      const { body: b } = await place('p-def', { amount: '5', reference: 'b', force: true }).expect(201);
      expect((await act('p-def', a.id, 'settle').expect(200)).body.settled_amount).toBe('10.000000');
      expect((await act('p-def', b.id, 'settle', { amount: 0 }).expect(200)).body).toMatchObject({ state: 'settled', settled_amount: '0.000000' });
      expect(await budgetOf('p-def')).toEqual({ granted: '10.000000', consumed: '10.000000', held: '0.000000' });
    });

    it('releases a held hold without a debit; then nothing else may resolve it', async () => {
      await seedBudget(t.app, 'p-rel', '100');
      const { body: hold } = await place('p-rel', { amount: '30', reference: 'r' }).expect(201);
      const res = await act('p-rel', hold.id, 'release').expect(200);
      expect(res.body).toMatchObject({ state: 'released', settled_amount: null });
      expect((await entriesOf(hold.id)).map((e) => [e.kind, e.amount])).toEqual([
        ['hold', '-30.000000'],
        ['hold_release', '30.000000'],
      ]);
      expect(await budgetOf('p-rel')).toEqual({ granted: '100.000000', consumed: '0.000000', held: '0.000000' });
      await act('p-rel', hold.id, 'release').expect(409);
      await act('p-rel', hold.id, 'settle').expect(409);
      await act('p-rel', hold.id, 'refund', { reason: 'x' }).expect(409);
    });

    it('refunds up to what is settled and not yet refunded; more is 409; a hold not settled is 409', async () => {
      const budget = await seedBudget(t.app, 'p-ref', '100');
      const { body: hold } = await place('p-ref', { amount: '10', reference: 'f' }).expect(201);
      await act('p-ref', hold.id, 'refund', { reason: 'too early' }).expect(409);
      await act('p-ref', hold.id, 'settle', { amount: '15' }).expect(200);
      const tooMuch = await act('p-ref', hold.id, 'refund', { amount: '15.000001', reason: 'node failure' }).expect(409);
      expect(tooMuch.body.error).toMatch(/more than the 15\.000000 settled/);
      const part = await act('p-ref', hold.id, 'refund', { amount: '5', reason: 'node failure' }).expect(200);
      expect(part.body).toMatchObject({ state: 'settled', settled_amount: '15.000000', refunded_amount: '5.000000' });
      await act('p-ref', hold.id, 'refund', { amount: '10.5', reason: 'again' }).expect(409);
      const rest = await act('p-ref', hold.id, 'refund', { reason: 'the rest' }).expect(200);
      expect(rest.body.refunded_amount).toBe('15.000000');
      await act('p-ref', hold.id, 'refund', { reason: 'nothing left' }).expect(409);
      expect((await entriesOf(hold.id)).filter((e) => e.kind === 'refund').map((e) => [e.amount, e.reason])).toEqual([
        ['5.000000', 'node failure'],
        ['10.000000', 'the rest'],
      ]);
      expect(await budgetOf('p-ref')).toEqual({ granted: '100.000000', consumed: '0.000000', held: '0.000000' });
      await balanced(budget.id);
    });
  });

  describe('the balance check', () => {
    it('counts accrued_today: today’s SU cost of cloud usage lowers what may be held', async () => {
      const start = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
      // The usage below ends one second into the day: wait for it to be past.
      const wait = start.getTime() + 2000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const day = start.toISOString().slice(0, 10);
      await createPriceList(t, { name: 'su', currency: 'SU', items: [{ meter: 'instance.time', key: 'm1.small', unit_price: '7200', price_unit: 'hour', valid_from: day }] });
      const a = almanach(t, service);
      await a.createInstance('p-acc', 'i-1', start.toISOString());
      await a.deleteInstance('i-1', new Date(start.getTime() + 1750).toISOString());
      await drainRollups(t);
      // 7200 SU/h = 2 SU/s over 1.75 s: 3.5 SU accrued today; 10 granted leaves 6.5.
      await seedBudget(t.app, 'p-acc', '10');
      const refused = await place('p-acc', { amount: '6.500001', reference: 'big' }).expect(409);
      expect(refused.body).toEqual({ error: 'Insufficient budget', available: '6.500000', requested: '6.500001' });
      await place('p-acc', { amount: '6.5', reference: 'fits' }).expect(201);
    });

    it("adds the project's overdraft from its policy; the 409 states available without it", async () => {
      await seedBudget(t.app, 'p-od', '100');
      await db.query(`INSERT INTO report_budget_policy (project_id, overdraft) VALUES ('p-od', 5)`);
      await place('p-od', { amount: '104', reference: 'a' }).expect(201);
      const refused = await place('p-od', { amount: '2', reference: 'b' }).expect(409);
      expect(refused.body).toEqual({ error: 'Insufficient budget', available: '-4.000000', requested: '2.000000' });
      await place('p-od', { amount: '1', reference: 'c' }).expect(201);
    });

    it('skips the check with force', async () => {
      await seedBudget(t.app, 'p-force', '10');
      await place('p-force', { amount: '11', reference: 'a' }).expect(409);
      const res = await place('p-force', { amount: '11', reference: 'a', force: true }).expect(201);
      expect(res.body.state).toBe('held');
      expect(await budgetOf('p-force')).toMatchObject({ held: '11.000000' });
    });

    it('holds against the budget whose period contains now: none, or only an ended one, is 404', async () => {
      await place('p-none', { amount: '1', reference: 'a' }).expect(404);
      await seedBudget(t.app, 'p-old', '100', { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' });
      const res = await place('p-old', { amount: '1', reference: 'a' }).expect(404);
      expect(res.body.error).toMatch(/no budget/);
    });
  });

  describe('AMIE record', () => {
    it('refuses a record another held hold names, until that hold is resolved', async () => {
      await seedBudget(t.app, 'p-am', '100');
      await seedBudget(t.app, 'p-am2', '100');
      const record = { site: 'hpc-a', resource: 'cluster-a', local_record_id: 'job-1' };
      const { body: first } = await place('p-am', { amount: '1', reference: 'a', amie_record: record }).expect(201);
      expect(first.amie_record).toEqual(record);
      const taken = await place('p-am2', { amount: '1', reference: 'b', amie_record: record }).expect(409);
      expect(taken.body.error).toMatch(/^amie_record: /);
      await act('p-am', first.id, 'release').expect(200);
      await place('p-am2', { amount: '1', reference: 'b', amie_record: record }).expect(201);
    });

    it('refuses a record already loaded', async () => {
      const site = await createSite(t);
      await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, { LocalProjectID: 'p-amie' })] }).expect(200);
      await waitLoaded(t);
      await seedBudget(t.app, 'p-amie', '100');
      const res = await place('p-amie', { amount: '1', reference: 'a', amie_record: { site: site.name, resource: 'cluster-a', local_record_id: 'job-1' } }).expect(409);
      expect(res.body.error).toBe('amie_record: this record is already loaded');
      await place('p-amie', { amount: '1', reference: 'a', amie_record: { site: site.name, resource: 'cluster-a', local_record_id: 'job-2' } }).expect(201);
    });

    it('settles the held hold its record names as the settle route does: the same hold, entries, figures and event (by system, the settle carrying the record)', async () => {
      const site = await createSite(t);
      const linkedBudget = await seedBudget(t.app, 'p-link', '100');
      await seedBudget(t.app, 'p-route', '100');
      const record = { site: site.name, resource: 'cluster-a', local_record_id: 'job-1' };
      const { body: linked } = await place('p-link', { amount: '10', reference: 'j', amie_record: record }).expect(201);
      const { body: routed } = await place('p-route', { amount: '10', reference: 'j' }).expect(201);
      // 85 SU (rate 1 without an SU list) of 100: both settlements cross 80 %.
      await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, { LocalProjectID: 'p-link', Charge: '85' })] }).expect(200);
      await waitLoaded(t);
      const viaRoute = (await act('p-route', routed.id, 'settle', { amount: '85' }).expect(200)).body;
      const viaRecord = (await t.http.get(`${holds('p-link')}/${linked.id}`).set('X-Auth-Token', service).expect(200)).body;
      const shape = (h: Record<string, unknown>) => ({ ...h, id: 'x', project_id: 'x', amie_record: 'x', created_at: 'x', expires_at: 'x', resolved_at: typeof h.resolved_at });
      expect(shape(viaRecord)).toEqual(shape(viaRoute));
      expect(viaRecord).toMatchObject({ state: 'settled', settled_amount: '85.000000', refunded_amount: '0.000000', amie_record: record, resolved_at: expect.any(String) });

      const summary = async (holdId: string) => (await entriesOf(holdId)).map((e) => [e.kind, e.amount, e.actor]);
      expect(await summary(routed.id)).toEqual([
        ['hold', '-10.000000', 'scheduler'],
        ['hold_release', '10.000000', 'scheduler'],
        ['hold_settle', '-85.000000', 'scheduler'],
      ]);
      expect(await summary(linked.id)).toEqual([
        ['hold', '-10.000000', 'scheduler'],
        ['hold_release', '10.000000', 'system'],
        ['hold_settle', '-85.000000', 'system'],
      ]);
      const [settle] = await db.query(`SELECT ref, source, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS at FROM report_budget_entry WHERE hold_id = $1 AND kind = 'hold_settle'`, [linked.id]);
      expect(settle).toEqual({ ref: `amie:${site.name}/compute/cluster-a/job-1`, source: expect.stringMatching(new RegExp(`^amie:${site.name}/compute/cluster-a/job-1@\\d+$`)), at: expect.any(String) });
      expect((await entriesOf(linked.id))[1].ref).toBe(`hold:${linked.id}`);
      // One instant for the resolution: the hold's resolved_at is its hold_release's at, whichever way it was settled.
      const releasedAt = async (holdId: string) =>
        (await db.query(`SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM report_budget_entry WHERE hold_id = $1 AND kind = 'hold_release'`, [holdId]))[0].at;
      expect(viaRoute.resolved_at).toBe(await releasedAt(routed.id));
      expect(viaRecord.resolved_at).toBe(await releasedAt(linked.id));
      expect(await budgetOf('p-link')).toEqual(await budgetOf('p-route'));
      expect(await budgetOf('p-link')).toEqual({ granted: '100.000000', consumed: '85.000000', held: '0.000000' });
      await balanced(linkedBudget.id);

      const events = (await t.http.get('/reports/events?type=budget.threshold_crossed').set('X-Auth-Token', service).expect(200)).body.events as { project_id: string; data: Record<string, unknown> }[];
      expect(events.map((e) => e.project_id).sort()).toEqual(['p-link', 'p-route']);
      expect(events[0].data).toEqual(events[1].data);
      expect(events[0].data).toMatchObject({ threshold: 80, arming: 1, consumed: '85.000000' });
    });

    it('a record that settled a hold and is resubmitted keeps the refund within what stays settled: moved away, nothing stays settled; cheaper, the refund is capped', async () => {
      const site = await createSite(t);
      const budget = await seedBudget(t.app, 'p-rs', '100');
      await seedBudget(t.app, 'p-other', '100');
      const record = (i: number) => ({ site: site.name, resource: 'cluster-a', local_record_id: `job-${i}` });
      const load = async (i: number, project: string, charge: string) => {
        await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(i, { LocalProjectID: project, Charge: charge })] }).expect(200);
        await waitLoaded(t);
      };
      const hold = async (id: string) => (await t.http.get(`${holds('p-rs')}/${id}`).set('X-Auth-Token', service).expect(200)).body;

      // (a) Settled at 15 by job-1, which then moves to another project: its settlement is reversed, nothing is left to refund.
      const { body: a } = await place('p-rs', { amount: '20', reference: 'a', amie_record: record(1) }).expect(201);
      await load(1, 'p-rs', '15');
      await load(1, 'p-other', '15');
      expect(await hold(a.id)).toMatchObject({ state: 'settled', settled_amount: '0.000000', refunded_amount: '0.000000' });
      const refused = await act('p-rs', a.id, 'refund', { reason: 'job failed' }).expect(409);
      expect(refused.body.error).toMatch(/nothing settled left to refund/);
      expect(await budgetOf('p-rs')).toMatchObject({ consumed: '0.000000', held: '0.000000' });

      // (b) Settled at 15 by job-2, refunded 15, then job-2 resubmitted at 4: the refund is capped at the 4 now settled.
      const { body: b } = await place('p-rs', { amount: '20', reference: 'b', amie_record: record(2) }).expect(201);
      await load(2, 'p-rs', '15');
      await act('p-rs', b.id, 'refund', { reason: 'job failed' }).expect(200);
      expect(await budgetOf('p-rs')).toMatchObject({ consumed: '0.000000' });
      await load(2, 'p-rs', '4');
      expect(await hold(b.id)).toMatchObject({ state: 'settled', settled_amount: '4.000000', refunded_amount: '4.000000' });
      const tail = (await entriesOf(b.id)).slice(-3).map((e) => [e.kind, e.amount, e.actor]);
      expect(tail).toEqual([
        ['amie_reversal', '15.000000', 'system'],
        ['hold_settle', '-4.000000', 'system'],
        ['refund', '-11.000000', 'system'],
      ]);
      expect((await entriesOf(b.id)).at(-1)!.reason).toBe(`AMIE record ${site.name}/compute/cluster-a/job-2 changed: the refund is capped at the 4.000000 now settled`);
      // Job 2 cost 4 and all of it is refunded; job 1 is p-other's: p-rs consumed nothing.
      expect(await budgetOf('p-rs')).toMatchObject({ consumed: '0.000000', held: '0.000000' });
      await balanced(budget.id);
    });

    it('a hold is settled by its record’s load, once; a hold naming the record once loaded is 409 and writes nothing', async () => {
      const site = await createSite(t);
      const budget = await seedBudget(t.app, 'p-link', '100');
      const record = (i: number) => ({ site: site.name, resource: 'cluster-a', local_record_id: `job-${i}` });
      const { body: hold } = await place('p-link', { amount: '20', reference: 'j1', amie_record: record(1) }).expect(201);
      await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, { LocalProjectID: 'p-link', Charge: '15' })] }).expect(200);
      await waitLoaded(t);
      const settled = (await t.http.get(`${holds('p-link')}/${hold.id}`).set('X-Auth-Token', service).expect(200)).body;
      expect(settled).toMatchObject({ state: 'settled', settled_amount: '15.000000' });
      expect((await entriesOf(hold.id)).map((e) => [e.kind, e.amount])).toEqual([
        ['hold', '-20.000000'],
        ['hold_release', '20.000000'],
        ['hold_settle', '-15.000000'],
      ]);

      // Record 2 loads first: a hold naming it is refused, and the refusal leaves no hold, no entry.
      await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(2, { LocalProjectID: 'p-link', Charge: '4' })] }).expect(200);
      await waitLoaded(t);
      const refused = await place('p-link', { amount: '20', reference: 'j2', amie_record: record(2) }).expect(409);
      expect(refused.body.error).toBe('amie_record: this record is already loaded');
      expect(await db.query(`SELECT id FROM report_budget_hold WHERE project_id = 'p-link' AND reference = 'j2'`)).toEqual([]);
      const kinds = await db.query(`SELECT kind, amount::text AS amount, ref FROM report_budget_entry WHERE budget_id = $1 AND kind <> 'grant' ORDER BY id`, [budget.id]);
      expect(kinds.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
        ['hold', '-20.000000'],
        ['hold_release', '20.000000'],
        ['hold_settle', '-15.000000'],
        ['amie_debit', '-4.000000'],
      ]);
      expect(await budgetOf('p-link')).toEqual({ granted: '100.000000', consumed: '19.000000', held: '0.000000' });
      await balanced(budget.id);
    });
  });

  /**
   * A hold naming a record created while that record loads (6.4 AMIE link):
   * the load locks the budget before it looks for holds naming its records,
   * the create locks it before it looks whether the record is loaded, so
   * whichever gets the lock first decides. A transaction of the test's own
   * holds the budget row while both queue up behind it, in the order the
   * test wants; row-lock waiters are served in arrival order.
   */
  (realServers.database ? describe : describe.skip)('AMIE record racing its load (real PostgreSQL)', () => {
    let blocker: Client;
    beforeEach(async () => {
      blocker = new Client({ connectionString: process.env.DATABASE_URL });
      await blocker.connect();
    });
    afterEach(async () => {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end().catch(() => undefined);
    });

    const waiting = async () =>
      ((await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)) as { n: number }[])[0].n;
    const holdBudget = async (budgetId: string) => {
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM report_budget WHERE id = $1 FOR UPDATE', [budgetId]);
    };

    it('a create that gets the budget first: the load that waited settles its hold, once', async () => {
      const site = await createSite(t);
      const budget = await seedBudget(t.app, 'p-race-h', '100');
      await holdBudget(budget.id);
      const creating = place('p-race-h', { amount: '20', reference: 'j1', amie_record: { site: site.name, resource: 'cluster-a', local_record_id: 'job-1' } }).then((r) => r);
      await until('the create to wait for the budget', async () => (await waiting()) === 1);
      const sending = t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, { LocalProjectID: 'p-race-h', Charge: '15' })] }).then((r) => r);
      await until('the load to wait for the budget too', async () => (await waiting()) === 2);
      await blocker.query('COMMIT');
      const created = await creating;
      expect(created.status).toBe(201);
      expect((await sending).status).toBe(200);
      await waitLoaded(t);
      const hold = (await t.http.get(`${holds('p-race-h')}/${created.body.id}`).set('X-Auth-Token', service).expect(200)).body;
      expect(hold).toMatchObject({ state: 'settled', settled_amount: '15.000000' });
      const entries = await db.query(`SELECT kind, amount::text AS amount FROM report_budget_entry WHERE budget_id = $1 AND kind <> 'grant' ORDER BY id`, [budget.id]);
      expect(entries).toEqual([
        { kind: 'hold', amount: '-20.000000' },
        { kind: 'hold_release', amount: '20.000000' },
        { kind: 'hold_settle', amount: '-15.000000' },
      ]);
      expect(await budgetOf('p-race-h')).toMatchObject({ consumed: '15.000000', held: '0.000000' });
      await balanced(budget.id);
    });

    it('a load that gets the budget first: the create that waited is 409, the record debits as usual', async () => {
      const site = await createSite(t);
      const budget = await seedBudget(t.app, 'p-race-l', '100');
      await holdBudget(budget.id);
      const sending = t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, { LocalProjectID: 'p-race-l', Charge: '15' })] }).then((r) => r);
      await until('the load to wait for the budget', async () => (await waiting()) === 1);
      const creating = place('p-race-l', { amount: '20', reference: 'j1', amie_record: { site: site.name, resource: 'cluster-a', local_record_id: 'job-1' } }).then((r) => r);
      await until('the create to wait for the budget too', async () => (await waiting()) === 2);
      await blocker.query('COMMIT');
      const created = await creating;
      expect(created.status).toBe(409);
      expect(created.body.error).toBe('amie_record: this record is already loaded');
      expect((await sending).status).toBe(200);
      await waitLoaded(t);
      expect(await db.query(`SELECT id FROM report_budget_hold WHERE project_id = 'p-race-l'`)).toEqual([]);
      const entries = await db.query(`SELECT kind, amount::text AS amount FROM report_budget_entry WHERE budget_id = $1 AND kind <> 'grant' ORDER BY id`, [budget.id]);
      expect(entries).toEqual([{ kind: 'amie_debit', amount: '-15.000000' }]);
      expect(await budgetOf('p-race-l')).toMatchObject({ consumed: '15.000000', held: '0.000000' });
      await balanced(budget.id);
    });
  });

  it('expires a hold still held at its expires_at, as hold_expire by system', async () => {
    const budget = await seedBudget(t.app, 'p-exp', '100');
    const { body: hold } = await place('p-exp', { amount: '10', reference: 'e', expires_at: new Date(Date.now() + 1500).toISOString() }).expect(201);
    const { body: kept } = await place('p-exp', { amount: '5', reference: 'k' }).expect(201);
    // The loop runs every 5 s (60 s promised); a bounded wait, not a timing assertion.
    const deadline = Date.now() + 90_000;
    let state = 'held';
    while (state === 'held' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      state = (await t.http.get(`${holds('p-exp')}/${hold.id}`).set('X-Auth-Token', service).expect(200)).body.state;
    }
    expect(state).toBe('expired');
    const expired = (await t.http.get(`${holds('p-exp')}/${hold.id}`).set('X-Auth-Token', service).expect(200)).body;
    expect(Date.parse(expired.resolved_at)).toBeGreaterThanOrEqual(Date.parse(expired.expires_at));
    expect((await entriesOf(hold.id)).map((e) => [e.kind, e.amount, e.actor])).toEqual([
      ['hold', '-10.000000', 'scheduler'],
      ['hold_expire', '10.000000', 'system'],
    ]);
    expect((await t.http.get(`${holds('p-exp')}/${kept.id}`).set('X-Auth-Token', service).expect(200)).body.state).toBe('held');
    expect(await budgetOf('p-exp')).toMatchObject({ held: '5.000000' });
    await act('p-exp', hold.id, 'settle').expect(409);
    await balanced(budget.id);
  });

  describe('input: every 4xx names the field', () => {
    const cases: [string, unknown, string][] = [
      ['no amount', { reference: 'a' }, 'amount: is required'],
      ['a zero amount', { amount: '0', reference: 'a' }, 'amount: must be > 0'],
      ['a negative amount', { amount: -1, reference: 'a' }, 'amount: must be > 0'],
      ['seven fractional digits', { amount: '1.0000001', reference: 'a' }, 'amount: must have at most 6 fractional digits'],
      ['an exponent', { amount: '1e2', reference: 'a' }, 'amount: must be a plain decimal, without an exponent'],
      ['a boolean amount', { amount: true, reference: 'a' }, 'amount: must be a decimal string or number'],
      ['no reference', { amount: '1' }, 'reference: is required'],
      ['an empty reference', { amount: '1', reference: '' }, 'reference: must be 1 to 255 characters'],
      ['a 256-character reference', { amount: '1', reference: 'x'.repeat(256) }, 'reference: must be 1 to 255 characters'],
      ['a naive expires_at', { amount: '1', reference: 'a', expires_at: '2099-01-01T00:00:00' }, 'expires_at: must be a date-time with Z or an offset'],
      ['February 30', { amount: '1', reference: 'a', expires_at: '2099-02-30T00:00:00Z' }, 'expires_at: is not a valid date-time'],
      ['a past expires_at', { amount: '1', reference: 'a', expires_at: '2020-01-01T00:00:00Z' }, 'expires_at: must be later than now'],
      ['an amie_record without site', { amount: '1', reference: 'a', amie_record: { resource: 'r', local_record_id: 'j' } }, 'amie_record.site: is required'],
      ['an amie_record that is a string', { amount: '1', reference: 'a', amie_record: 'job-1' }, 'amie_record: must be an object {site, resource, local_record_id}'],
      ['a string force', { amount: '1', reference: 'a', force: 'yes' }, 'force: must be true or false'],
      ['an unknown field', { amount: '1', reference: 'a', colour: 'red' }, 'colour: not a known field'],
    ];
    it.each(cases)('create with %s is 400', async (_name, body, error) => {
      await seedBudget(t.app, 'p-in', '100');
      const res = await place('p-in', body).expect(400);
      expect(res.body.error).toBe(error);
      expect(res.body.fields[error.split(':')[0]]).toBe(error.slice(error.indexOf(': ') + 2));
    });

    it('names the field of settle and refund bodies, and an unknown query parameter', async () => {
      await seedBudget(t.app, 'p-in2', '100');
      const { body: hold } = await place('p-in2', { amount: '10', reference: 'a' }).expect(201);
      const exponent = await t.http.post(holds('p-in2')).set('X-Auth-Token', service).set('Content-Type', 'application/json').send('{"amount": 1e2, "reference": "e"}').expect(400);
      expect(exponent.body.error).toBe('amount: must be a plain decimal, without an exponent');
      expect((await act('p-in2', hold.id, 'settle', { amount: '-1' }).expect(400)).body.error).toBe('amount: must be ≥ 0');
      expect((await act('p-in2', hold.id, 'settle', { amount: '1', extra: 1 }).expect(400)).body.error).toBe('extra: not a known field');
      await act('p-in2', hold.id, 'settle', { amount: '1' }).expect(200);
      expect((await act('p-in2', hold.id, 'refund', { amount: '1' }).expect(400)).body.error).toBe('reason: is required');
      expect((await act('p-in2', hold.id, 'refund', { amount: '0', reason: 'x' }).expect(400)).body.error).toBe('amount: must be > 0');
      expect((await t.http.get(`${holds('p-in2')}/${hold.id}?verbose=1`).set('X-Auth-Token', service).expect(400)).body.error).toBe('verbose: not a known parameter');
    });

    it("answers 404 for an unknown hold and for another project's hold", async () => {
      await seedBudget(t.app, 'p-x', '100');
      await seedBudget(t.app, 'p-y', '100');
      const { body: hold } = await place('p-x', { amount: '1', reference: 'a' }).expect(201);
      await t.http.get(`${holds('p-x')}/hold_NOPE`).set('X-Auth-Token', service).expect(404);
      await t.http.get(`${holds('p-y')}/${hold.id}`).set('X-Auth-Token', service).expect(404);
      await act('p-y', hold.id, 'settle').expect(404);
      await act('p-y', hold.id, 'release').expect(404);
      await act('p-y', hold.id, 'refund', { reason: 'x' }).expect(404);
      expect((await t.http.get(`${holds('p-x')}/${hold.id}`).set('X-Auth-Token', service).expect(200)).body.state).toBe('held');
    });
  });

  describe('roles (1.2)', () => {
    it('lets admin and service place and resolve holds; reader and user read only, a user only its own projects', async () => {
      await seedBudget(t.app, 'p-own', '100');
      await seedBudget(t.app, 'p-other', '100');
      const admin = await t.token('admin', { name: 'ops' });
      const reader = await t.token('reader');
      const user = await t.token('user', { projectIds: ['p-own'] });
      await t.http.post(holds('p-own')).send({ amount: '1', reference: 'x' }).expect(401);
      await place('p-own', { amount: '1', reference: 'x' }, reader).expect(403);
      await place('p-own', { amount: '1', reference: 'x' }, user).expect(403);
      const { body: mine } = await place('p-own', { amount: '1', reference: 'x' }, admin).expect(201);
      expect((await entriesOf(mine.id))[0].actor).toBe('ops');
      const { body: theirs } = await place('p-other', { amount: '1', reference: 'y' }).expect(201);
      await t.http.get(`${holds('p-own')}/${mine.id}`).set('X-Auth-Token', reader).expect(200);
      await t.http.get(`${holds('p-own')}/${mine.id}`).set('X-Auth-Token', user).expect(200);
      await t.http.get(`${holds('p-other')}/${theirs.id}`).set('X-Auth-Token', user).expect(403);
      for (const token of [reader, user]) {
        await act('p-own', mine.id, 'settle', undefined, token).expect(403);
        await act('p-own', mine.id, 'release', undefined, token).expect(403);
        await act('p-own', mine.id, 'refund', { reason: 'x' }, token).expect(403);
      }
      await act('p-own', mine.id, 'settle', undefined, admin).expect(200);
      await act('p-own', mine.id, 'refund', { reason: 'x' }, service).expect(200);
    });
  });
});
