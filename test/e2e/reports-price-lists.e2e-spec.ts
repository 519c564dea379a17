import { parseCsv } from '../support/csv';
import { realServers, useTestApp } from '../support/test-app';

/**
 * Price lists, items, corrections and their audit (reports.md §4.1–4.4,
 * §13 item 10) through the front door, in the accounting zone
 * Europe/Berlin so that a local midnight is not a UTC one. Dates are chosen
 * relative to the clock: 2025 is in the past, the year after next is in the
 * future (items there are `scheduled`).
 */

const ZONE = 'Europe/Berlin';
const FUTURE_YEAR = new Date().getUTCFullYear() + 2;
const FUTURE = `${FUTURE_YEAR}-01-01`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface AuditRow {
  id: string;
  actor: string;
  action: string;
  object: string;
  object_id: string;
  price_list_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
}

const item = (over: Record<string, unknown> = {}) => ({
  meter: 'instance.time',
  key: 'm1.small',
  subkey: '',
  unit_price: '0.25',
  price_unit: 'hour',
  valid_from: FUTURE,
  valid_to: null,
  ...over,
});

describe('price lists (reports.md §4.1–4.4)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: ZONE });
  let admin: string;

  beforeEach(async () => {
    admin = await t.token('admin', { name: 'price-admin' });
  });

  const send = (method: 'post' | 'patch', path: string, body: unknown, token = admin) =>
    t.http[method](path).set('X-Auth-Token', token).set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
  const createList = (body: unknown, token = admin) => send('post', '/admin/reports/price-lists', body, token);
  const addItems = (id: string, body: unknown, token = admin) => send('post', `/admin/reports/price-lists/${id}/items`, body, token);
  const patchList = (id: string, body: unknown, token = admin) => send('patch', `/admin/reports/price-lists/${id}`, body, token);
  const patchItem = (id: string, itemId: string, body: unknown, token = admin) => send('patch', `/admin/reports/price-lists/${id}/items/${itemId}`, body, token);
  const deleteItem = (id: string, itemId: string, token = admin) => t.http.delete(`/admin/reports/price-lists/${id}/items/${itemId}`).set('X-Auth-Token', token);
  const correct = (id: string, body: unknown, token = admin) => send('post', `/admin/reports/price-lists/${id}/corrections`, body, token);
  const get = (path: string, token = admin) => t.http.get(path).set('X-Auth-Token', token);

  const audit = (): Promise<AuditRow[]> => t.runtime.dataSource.query(`SELECT * FROM report_audit ORDER BY at, id`);
  const auditCount = async () => (await audit()).length;
  /** The start of today in the accounting zone, as the database defines it (reports.md 1.5), in the answers' form. */
  const todayStart = async (): Promise<string> =>
    (await t.runtime.dataSource.query(`SELECT report_day_start(report_local_day(now(), $1), $1) AS at`, [ZONE]))[0].at.toISOString();
  /** A new list with no items; its id. */
  const newList = async (over: Record<string, unknown> = {}) => (await createList({ name: 'EUR default', currency: 'EUR', ...over }).expect(201)).body.id as string;

  describe('POST /admin/reports/price-lists', () => {
    it('creates a default list (201) with one audit entry; the ids carry their prefixes', async () => {
      const res = await createList({ name: 'Public 2025', currency: 'EUR', description: 'list prices' }).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^pl_[0-9a-f]{24}$/),
        name: 'Public 2025',
        currency: 'EUR',
        project_ids: [],
        description: 'list prices',
        created_at: expect.stringMatching(ISO),
        created_by: 'price-admin',
        items: [],
        rerate_job: null,
      });
      const rows = await audit();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: 'price-admin', action: 'create', object: 'price_list', object_id: res.body.id, price_list_id: res.body.id, before: null, reason: null });
      expect(rows[0].after).toEqual({ id: res.body.id, name: 'Public 2025', currency: 'EUR', project_ids: [], description: 'list prices', created_at: res.body.created_at, created_by: 'price-admin' });
    });

    it('creates a list with items: one entry for the list and one per item; future items queue no job', async () => {
      const res = await createList({
        name: 'Projects',
        currency: 'SU',
        project_ids: ['p1', 'p2'],
        items: [item(), item({ key: 'm1.large', unit_price: '1.5', reason: 'launch' })],
      }).expect(201);
      expect(res.body.project_ids).toEqual(['p1', 'p2']);
      expect(res.body.rerate_job).toBeNull();
      expect(res.body.items.map((i: { key: string }) => i.key)).toEqual(['m1.large', 'm1.small']);
      expect(res.body.items[1]).toEqual({
        id: expect.stringMatching(/^pi_[0-9a-f]{24}$/),
        meter: 'instance.time',
        key: 'm1.small',
        subkey: '',
        unit_price: '0.25',
        price_unit: 'hour',
        valid_from: `${FUTURE_YEAR - 1}-12-31T23:00:00.000Z`,
        valid_to: null,
        state: 'scheduled',
        superseded_by: null,
        created_at: expect.stringMatching(ISO),
        created_by: 'price-admin',
        reason: null,
      });
      expect(res.body.items[0].reason).toBe('launch');
      const rows = await audit();
      expect(rows.map((r) => `${r.action} ${r.object}`).sort()).toEqual(['create price_item', 'create price_item', 'create price_list']);
      expect(rows.find((r) => r.object_id === res.body.items[0].id)).toMatchObject({ reason: 'launch', price_list_id: res.body.id, after: res.body.items[0] });
    });

    it('items covering days before today queue one rerate job in the same call, scoped to the list', async () => {
      const res = await createList({
        name: 'Late list',
        currency: 'EUR',
        project_ids: ['p9'],
        items: [item({ valid_from: '2025-03-01', valid_to: '2025-04-01' }), item({ key: 'x', valid_from: '2025-06-01' })],
      }).expect(201);
      const today = await todayStart();
      expect(res.body.rerate_job).toMatchObject({
        id: expect.stringMatching(/^job_/),
        kind: 'rerate',
        created_by: 'price-admin',
        scope: { start: '2025-02-28T23:00:00.000Z', end: today, project_ids: ['p9'], currencies: ['EUR'], recompute_usage: false, price_list_id: res.body.id },
      });
      const job = await get(`/admin/reports/jobs/${res.body.rerate_job.id}`).expect(200);
      expect(job.body).toMatchObject({ kind: 'rerate', scope: res.body.rerate_job.scope });
      expect(['queued', 'running', 'succeeded', 'failed']).toContain(job.body.state);
      expect(res.body.items.map((i: { state: string }) => i.state)).toEqual(['ended', 'effective']);
    });

    it('a default list queues its job for every project (project_ids null); the window ends where the past validity ends', async () => {
      const res = await createList({ name: 'D', currency: 'USD', items: [item({ valid_from: '2025-03-01', valid_to: '2025-03-02' })] }).expect(201);
      expect(res.body.rerate_job.scope).toEqual({
        start: '2025-02-28T23:00:00.000Z',
        end: '2025-03-01T23:00:00.000Z',
        project_ids: null,
        currencies: ['USD'],
        recompute_usage: false,
        price_list_id: res.body.id,
      });
    });

    it('409 for a second list of the same name, a second default list of a currency, a project already in a list of the currency', async () => {
      await createList({ name: 'A', currency: 'EUR' }).expect(201);
      await createList({ name: 'B', currency: 'EUR', project_ids: ['p1', 'p2'] }).expect(201);
      expect((await createList({ name: 'A', currency: 'USD' }).expect(409)).body).toEqual({ error: 'Another price list has this name' });
      expect((await createList({ name: 'C', currency: 'EUR' }).expect(409)).body.error).toMatch(/default price list/);
      expect((await createList({ name: 'C', currency: 'EUR', project_ids: ['p3', 'p2'] }).expect(409)).body.error).toMatch(/"p2" is already named/);
      // Another currency is another question.
      await createList({ name: 'C', currency: 'USD', project_ids: ['p2'] }).expect(201);
      await createList({ name: 'D', currency: 'USD' }).expect(201);
      expect(await auditCount()).toBe(4);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['no name', { currency: 'EUR' }, 'name: is required'],
      ['a name of 129 characters', { name: 'n'.repeat(129), currency: 'EUR' }, 'name: must be 1 to 128 characters'],
      ['a lower-case currency', { name: 'x', currency: 'eur' }, 'currency: must be a three-letter ISO 4217 code or SU'],
      ['project_ids not an array', { name: 'x', currency: 'EUR', project_ids: 'p1' }, 'project_ids: must be an array of project ids'],
      ['a project twice', { name: 'x', currency: 'EUR', project_ids: ['p1', 'p1'] }, 'project_ids: must not name a project twice'],
      ['an unknown field', { name: 'x', currency: 'EUR', owner: 'me' }, 'owner: not a known field'],
      ['an unknown meter', { name: 'x', currency: 'EUR', items: [item({ meter: 'gpu.time' })] }, 'items[0].meter: must be one of'],
      ['hour for amie.charge', { name: 'x', currency: 'EUR', items: [item({ meter: 'amie.charge', key: 'r', subkey: '*', price_unit: 'hour' })] }, 'items[0].price_unit: must be unit for amie.charge'],
      ['unit for instance.vcpu', { name: 'x', currency: 'EUR', items: [item({ meter: 'instance.vcpu', price_unit: 'unit' })] }, 'items[0].price_unit: must be hour for instance.vcpu'],
      ['an AMIE meter without a record type', { name: 'x', currency: 'EUR', items: [item({ meter: 'amie.node_time', key: 'r', subkey: '' })] }, 'items[0].subkey: must be a record type'],
      ['a subkey on a meter without one', { name: 'x', currency: 'EUR', items: [item({ subkey: 'compute' })] }, 'items[0].subkey: must be "" for instance.time'],
      ['11 fractional digits', { name: 'x', currency: 'EUR', items: [item({ unit_price: '0.12345678901' })] }, 'items[0].unit_price: must have at most 10 fractional digits'],
      ['an exponent in a string', { name: 'x', currency: 'EUR', items: [item({ unit_price: '1e2' })] }, 'items[0].unit_price: must be a plain decimal, without an exponent'],
      ['a negative price', { name: 'x', currency: 'EUR', items: [item({ unit_price: '-1' })] }, 'items[0].unit_price: must be ≥ 0'],
      ['a price that is not a decimal', { name: 'x', currency: 'EUR', items: [item({ unit_price: 'cheap' })] }, 'items[0].unit_price: must be a plain decimal'],
      ['no price', { name: 'x', currency: 'EUR', items: [item({ unit_price: undefined })] }, 'items[0].unit_price: is required'],
      ['a valid_from not on a local midnight (UTC midnight is 01:00 in Berlin)', { name: 'x', currency: 'EUR', items: [item({ valid_from: '2025-03-01T00:00:00Z' })] }, 'items[0].valid_from: must be the start of a day of Europe/Berlin'],
      ['a valid_to in the middle of a day', { name: 'x', currency: 'EUR', items: [item({ valid_to: `${FUTURE_YEAR}-02-01T12:00:00+01:00` })] }, 'items[0].valid_to: must be the start of a day of Europe/Berlin'],
      ['a date-time without offset', { name: 'x', currency: 'EUR', items: [item({ valid_from: '2025-03-01T00:00:00' })] }, 'items[0].valid_from: needs Z or an offset'],
      ['a date that does not exist', { name: 'x', currency: 'EUR', items: [item({ valid_from: '2025-02-30' })] }, 'items[0].valid_from: not a valid date or instant'],
      ['valid_to equal to valid_from', { name: 'x', currency: 'EUR', items: [item({ valid_to: FUTURE })] }, 'items[0].valid_to: must be later than valid_from'],
      ['valid_to before valid_from', { name: 'x', currency: 'EUR', items: [item({ valid_to: '2025-01-01' })] }, 'items[0].valid_to: must be later than valid_from'],
      ['an unknown item field', { name: 'x', currency: 'EUR', items: [item({ colour: 'red' })] }, 'items[0].colour: not a known field'],
      ['an item that is a number', { name: 'x', currency: 'EUR', items: [item(), 5] }, 'items[1]: must be an item object'],
      ['an item that is a string', { name: 'x', currency: 'EUR', items: ['x'] }, 'items[0]: must be an item object'],
      ['an item that is a list', { name: 'x', currency: 'EUR', items: [[item()]] }, 'items[0]: must be an item object'],
      ['items not an array', { name: 'x', currency: 'EUR', items: {} }, 'items: must be an array of items'],
    ])('400 for %s, naming the field, and nothing is written', async (_what, body, error) => {
      const res = await createList(body).expect(400);
      expect(res.body.error.slice(0, error.length)).toBe(error);
      const field = error.split(':')[0];
      expect(Object.keys(res.body.fields)).toContain(field);
      expect(await auditCount()).toBe(0);
      expect((await get('/reports/price-lists').expect(200)).body.price_lists).toEqual([]);
    });

    it('reads a JSON number price from its text: 2.40 stays 2.40, 1E2 is refused, 11 fractional digits too', async () => {
      const body = `{"name": "n", "currency": "EUR", "items": [{"meter": "instance.time", "key": "a", "unit_price": 2.40, "price_unit": "hour", "valid_from": "${FUTURE}"},
        {"meter": "instance.time", "key": "b", "unit_price": 0.1000000000, "price_unit": "hour", "valid_from": "${FUTURE}"}]}`;
      const res = await createList(body).expect(201);
      expect(res.body.items.map((i: { unit_price: string }) => i.unit_price)).toEqual(['2.40', '0.1000000000']);
      const exp = await createList(`{"name": "m", "currency": "USD", "items": [{"meter": "instance.time", "key": "a", "unit_price": 1E2, "price_unit": "hour", "valid_from": "${FUTURE}"}]}`).expect(400);
      expect(exp.body.error).toBe('items[0].unit_price: must be a plain decimal, without an exponent');
      const long = await createList(`{"name": "m", "currency": "USD", "items": [{"meter": "instance.time", "key": "a", "unit_price": 0.12345678901, "price_unit": "hour", "valid_from": "${FUTURE}"}]}`).expect(400);
      expect(long.body.error).toBe('items[0].unit_price: must have at most 10 fractional digits');
      // A number where a string belongs is still refused.
      expect((await createList('{"name": 5, "currency": "USD"}').expect(400)).body.error).toBe('name: must be a string');
    });

    it('401 without a token, 403 for every role but admin, 415 for a body that is not JSON', async () => {
      await t.http.post('/admin/reports/price-lists').send({ name: 'x', currency: 'EUR' }).expect(401);
      for (const role of ['reader', 'service', 'user'] as const) {
        await createList({ name: 'x', currency: 'EUR' }, await t.token(role, { name: `${role}-t`, projectIds: ['p1'] })).expect(403);
      }
      await t.http.post('/admin/reports/price-lists').set('X-Auth-Token', admin).set('Content-Type', 'text/plain').send('name=x').expect(415);
      expect(await auditCount()).toBe(0);
    });

    it('two simultaneous default lists of one currency: exactly one is created, the other is 409', async () => {
      const answers = await Promise.all([createList({ name: 'one', currency: 'CHF' }), createList({ name: 'two', currency: 'CHF' })]);
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      expect(answers.find((a) => a.status === 409)!.body.error).toMatch(/default price list/);
      expect(await auditCount()).toBe(1);
    });

    it('a query parameter on a write is a 400 naming it', async () => {
      const res = await send('post', '/admin/reports/price-lists?dry_run=1', { name: 'x', currency: 'EUR' }).expect(400);
      expect(res.body).toEqual({ error: 'dry_run: not a known parameter', fields: { dry_run: 'not a known parameter' } });
    });

    it('answers a repeat with the same Idempotency-Key with the first answer, without a second list', async () => {
      const first = await t.http.post('/admin/reports/price-lists').set('X-Auth-Token', admin).set('Idempotency-Key', 'k-1').send({ name: 'x', currency: 'EUR' }).expect(201);
      const again = await t.http.post('/admin/reports/price-lists').set('X-Auth-Token', admin).set('Idempotency-Key', 'k-1').send({ name: 'x', currency: 'EUR' }).expect(201);
      expect(again.body).toEqual(first.body);
      expect(await auditCount()).toBe(1);
    });
  });

  describe('GET /reports/price-lists and /reports/price-lists/{id}', () => {
    it('lists by name in byte order, filtered by currency and by the project a list applies to', async () => {
      const d = await newList({ name: 'b default' });
      const p = await newList({ name: 'a p1', project_ids: ['p1', 'p2'] });
      const su = await newList({ name: 'C su', currency: 'SU' });
      const names = (res: { body: { price_lists: { name: string }[] } }) => res.body.price_lists.map((l) => l.name);
      expect(names(await get('/reports/price-lists').expect(200))).toEqual(['C su', 'a p1', 'b default']);
      expect(names(await get('/reports/price-lists?currency=EUR').expect(200))).toEqual(['a p1', 'b default']);
      // p1 has its own EUR list; the EUR default does not apply to it; the SU default does.
      expect(names(await get('/reports/price-lists?project_id=p1').expect(200))).toEqual(['C su', 'a p1']);
      expect(names(await get('/reports/price-lists?project_id=p7').expect(200))).toEqual(['C su', 'b default']);
      expect(names(await get('/reports/price-lists?project_id=p7&currency=SU').expect(200))).toEqual(['C su']);
      expect([d, p, su].every((id) => id.startsWith('pl_'))).toBe(true);
      expect((await get('/reports/price-lists?currency=euro').expect(400)).body).toEqual({
        error: 'currency: must be a three-letter ISO 4217 code or SU',
        fields: { currency: 'must be a three-letter ISO 4217 code or SU' },
      });
      expect((await get('/reports/price-lists?projects=p1').expect(400)).body.error).toBe('projects: not a known parameter');
      await t.http.get('/reports/price-lists').expect(401);
    });

    it('a user sees the defaults and the lists naming one of its projects, with only its own projects in them; others are 404', async () => {
      const d = await newList({ name: 'default' });
      const mine = await newList({ name: 'mine', project_ids: ['p1', 'secret-neighbour'] });
      const other = await newList({ name: 'other', project_ids: ['p2'] });
      const user = await t.token('user', { projectIds: ['p1'] });
      const res = await get('/reports/price-lists', user).expect(200);
      expect(res.body.price_lists.map((l: { name: string; project_ids: string[] }) => [l.name, l.project_ids])).toEqual([
        ['default', []],
        ['mine', ['p1']],
      ]);
      expect((await get(`/reports/price-lists/${mine}`, user).expect(200)).body.project_ids).toEqual(['p1']);
      await get(`/reports/price-lists/${d}`, user).expect(200);
      await get(`/reports/price-lists/${other}`, user).expect(404);
      expect((await get('/reports/price-lists?project_id=p2', user).expect(403)).body).toEqual({ error: expect.any(String) });
      expect((await get('/reports/price-lists?project_id=p1', user).expect(200)).body.price_lists.map((l: { name: string }) => l.name)).toEqual(['mine']);
      // reader and service read every list, unnarrowed.
      for (const role of ['reader', 'service'] as const) {
        const token = await t.token(role, { name: `${role}-r` });
        expect((await get(`/reports/price-lists/${mine}`, token).expect(200)).body.project_ids).toEqual(['p1', 'secret-neighbour']);
      }
    });

    it('gives a list with its items by meter, key, subkey, valid_from; at and state filter them', async () => {
      const id = await newList();
      await addItems(id, {
        items: [
          item({ key: 'b', valid_from: '2025-01-01', valid_to: '2025-02-01' }),
          item({ key: 'b', valid_from: '2025-02-01' }),
          item({ key: 'a' }),
          item({ meter: 'amie.charge', key: 'r', subkey: 'compute', price_unit: 'unit', valid_from: '2025-01-01' }),
        ],
      }).expect(201);
      const all = (await get(`/reports/price-lists/${id}`).expect(200)).body;
      expect(all.items.map((i: { meter: string; key: string; state: string }) => `${i.meter} ${i.key} ${i.state}`)).toEqual([
        'amie.charge r effective',
        'instance.time a scheduled',
        'instance.time b ended',
        'instance.time b effective',
      ]);
      const at = (await get(`/reports/price-lists/${id}?at=2025-01-15T12:00:00Z`).expect(200)).body.items;
      expect(at.map((i: { key: string; valid_from: string }) => `${i.key} ${i.valid_from}`)).toEqual(['r 2024-12-31T23:00:00.000Z', 'b 2024-12-31T23:00:00.000Z']);
      // A bare date is the start of that local day: 2025-02-01 00:00 Berlin is the second b's first instant.
      const feb = (await get(`/reports/price-lists/${id}?at=2025-02-01`).expect(200)).body.items;
      expect(feb.map((i: { key: string; valid_from: string }) => `${i.key} ${i.valid_from}`)).toEqual(['r 2024-12-31T23:00:00.000Z', 'b 2025-01-31T23:00:00.000Z']);
      expect((await get(`/reports/price-lists/${id}?state=scheduled`).expect(200)).body.items.map((i: { key: string }) => i.key)).toEqual(['a']);
      expect((await get(`/reports/price-lists/${id}?state=gone`).expect(400)).body.error).toBe('state: must be one of scheduled, effective, ended, superseded');
      expect((await get(`/reports/price-lists/${id}?at=yesterday`).expect(400)).body.error).toMatch(/^at: /);
      expect((await get(`/reports/price-lists/${id}?at=2025-13-01`).expect(400)).body.error).toBe('at: not a valid date or instant');
      expect((await get(`/reports/price-lists/${id}?at=2025-01-01T10:00:00`).expect(400)).body.error).toBe('at: needs Z or an offset');
      expect((await get('/reports/price-lists/pl_nope').expect(404)).body).toEqual({ error: 'No such price list' });
    });
  });

  describe('PATCH /admin/reports/price-lists/{id}', () => {
    it('renames and describes (one update entry with before and after); an unchanged body writes nothing', async () => {
      const id = await newList();
      const res = await patchList(id, { name: 'renamed', description: 'd' }).expect(200);
      expect(res.body).toMatchObject({ id, name: 'renamed', description: 'd', currency: 'EUR', project_ids: [] });
      const rows = await audit();
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatchObject({ action: 'update', object: 'price_list', object_id: id });
      expect(rows[1].before).toMatchObject({ name: 'EUR default', description: '' });
      expect(rows[1].after).toMatchObject({ name: 'renamed', description: 'd' });
      await patchList(id, { name: 'renamed' }).expect(200);
      expect(await auditCount()).toBe(2);
    });

    it('changes project_ids while no item has begun; 409 once one has (even ended), and for a taken name or project', async () => {
      const id = await newList({ name: 'L', project_ids: ['p1'] });
      await newList({ name: 'M', project_ids: ['p2'] });
      await addItems(id, item()).expect(201);
      expect((await patchList(id, { project_ids: ['p1', 'p3'] }).expect(200)).body.project_ids).toEqual(['p1', 'p3']);
      expect((await patchList(id, { project_ids: ['p2'] }).expect(409)).body.error).toMatch(/"p2" is already named/);
      expect((await patchList(id, { name: 'M' }).expect(409)).body.error).toBe('Another price list has this name');
      // p3 left the list: another list may now name p3 ... but not p1.
      await newList({ name: 'N', project_ids: ['p4'] });
      expect((await patchList(id, { project_ids: [] }).expect(200)).body.project_ids).toEqual([]);
      await newList({ name: 'P', project_ids: ['p1', 'p3'] });
      await addItems(id, item({ key: 'old', valid_from: '2025-01-01', valid_to: '2025-02-01' })).expect(201);
      const before = await auditCount();
      expect((await patchList(id, { project_ids: ['p9'] }).expect(409)).body.error).toMatch(/^project_ids cannot change once an item of the list has begun/);
      // Same set in another order is no change.
      await patchList(id, { project_ids: [], description: 'still fine' }).expect(200);
      expect(await auditCount()).toBe(before + 1);
    });

    it('a second default of a currency is 409; 404 for an unknown list; 400 naming the field; 403 for a reader', async () => {
      await newList({ name: 'default' });
      const scoped = await newList({ name: 'scoped', project_ids: ['p1'] });
      expect((await patchList(scoped, { project_ids: [] }).expect(409)).body.error).toMatch(/default price list/);
      await patchList('pl_missing', { name: 'x' }).expect(404);
      expect((await patchList(scoped, { name: '' }).expect(400)).body.error).toBe('name: must be 1 to 128 characters');
      expect((await patchList(scoped, { currency: 'USD' }).expect(400)).body.error).toBe('currency: not a known field');
      await patchList(scoped, { name: 'x' }, await t.token('reader')).expect(403);
      await t.http.patch(`/admin/reports/price-lists/${scoped}`).send({ name: 'x' }).expect(401);
    });
  });

  describe('POST /admin/reports/price-lists/{id}/items', () => {
    it('adds one item (fields named bare) or {"items": [...]} in one transaction, one audit entry per item', async () => {
      const id = await newList();
      const one = await addItems(id, item({ reason: 'first' })).expect(201);
      expect(one.body).toEqual({ items: [expect.objectContaining({ key: 'm1.small', state: 'scheduled', reason: 'first' })], rerate_job: null });
      const two = await addItems(id, { items: [item({ key: 'x' }), item({ key: 'y' })] }).expect(201);
      expect(two.body.items.map((i: { key: string }) => i.key)).toEqual(['x', 'y']);
      expect((await audit()).filter((r) => r.object === 'price_item' && r.action === 'create')).toHaveLength(3);
      expect((await addItems(id, item({ unit_price: '1.12345678901' })).expect(400)).body.error).toBe('unit_price: must have at most 10 fractional digits');
      expect((await addItems(id, { items: [item({ key: 'z' }), item({ key: 'w', valid_from: '2025-01-01T12:00:00Z' })] }).expect(400)).body.error).toMatch(
        /^items\[1\]\.valid_from: must be the start of a day/,
      );
      expect((await addItems(id, { items: [] }).expect(400)).body.error).toBe('items: must have at least one item');
      expect(await auditCount()).toBe(4);
    });

    it('409 for an item overlapping a live one of the same meter, key and subkey, also within one call, and nothing is written', async () => {
      const id = await newList();
      await addItems(id, item({ valid_from: FUTURE, valid_to: `${FUTURE_YEAR}-07-01` })).expect(201);
      const before = await auditCount();
      const res = await addItems(id, item({ valid_from: `${FUTURE_YEAR}-06-01` })).expect(409);
      expect(res.body.error).toMatch(/same meter, key and subkey/);
      await addItems(id, { items: [item({ key: 'n', valid_from: '2025-01-01' }), item({ key: 'n', valid_from: '2025-06-01', valid_to: '2025-07-01' })] }).expect(409);
      expect(await auditCount()).toBe(before);
      expect(await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_job`)).toEqual([{ n: 0 }]);
      // Adjacent validity is no overlap; another key or subkey neither.
      await addItems(id, { items: [item({ valid_from: `${FUTURE_YEAR}-07-01` }), item({ key: 'other' }), item({ meter: 'instance.vcpu' })] }).expect(201);
    });

    it('past items queue a rerate job for the list projects; 404 for an unknown list; 403 for a service token', async () => {
      const id = await newList({ project_ids: ['p1', 'p2'] });
      const res = await addItems(id, item({ valid_from: '2025-05-01' })).expect(201);
      expect(res.body.rerate_job).toMatchObject({ kind: 'rerate', scope: { start: '2025-04-30T22:00:00.000Z', end: await todayStart(), project_ids: ['p1', 'p2'], currencies: ['EUR'], price_list_id: id } });
      expect(await t.runtime.dataSource.query(`SELECT kind, scope->>'price_list_id' AS list FROM report_job`)).toEqual([{ kind: 'rerate', list: id }]);
      await addItems('pl_missing', item()).expect(404);
      await addItems(id, item({ key: 'q' }), await t.token('service')).expect(403);
    });
  });

  describe('PATCH and DELETE /admin/reports/price-lists/{id}/items/{item_id} (reports.md 4.3)', () => {
    const setUp = async () => {
      const id = await newList();
      const res = await addItems(id, {
        items: [item({ key: 'sched' }), item({ key: 'eff', valid_from: '2025-01-01' }), item({ key: 'ended', valid_from: '2025-01-01', valid_to: '2025-02-01' })],
      }).expect(201);
      const ids = Object.fromEntries(res.body.items.map((i: { key: string; id: string }) => [i.key, i.id])) as Record<'sched' | 'eff' | 'ended', string>;
      return { id, ...ids };
    };

    it('PATCH of a scheduled item may change anything (200, one update entry); of an effective item unit_price is 409', async () => {
      const { id, sched, eff } = await setUp();
      const before = await auditCount();
      const ok = await patchItem(id, sched, { unit_price: '0.30', valid_from: `${FUTURE_YEAR}-02-01`, reason: 'typo' }).expect(200);
      expect(ok.body).toMatchObject({ id: sched, unit_price: '0.30', valid_from: `${FUTURE_YEAR}-01-31T23:00:00.000Z`, state: 'scheduled', rerate_job: null });
      const rows = await audit();
      expect(rows).toHaveLength(before + 1);
      expect(rows[rows.length - 1]).toMatchObject({ action: 'update', object_id: sched, reason: 'typo' });
      expect(rows[rows.length - 1].before).toMatchObject({ unit_price: '0.25' });
      const refused = await patchItem(id, eff, { unit_price: '0.30' }).expect(409);
      expect(refused.body.error).toMatch(/^unit_price of an item that has begun \(effective\) cannot change/);
      for (const change of [{ key: 'k2' }, { meter: 'instance.vcpu' }, { valid_from: '2025-02-01' }]) await patchItem(id, eff, change).expect(409);
      // The same price written otherwise is no change.
      await patchItem(id, eff, { unit_price: '0.2500' }).expect(200);
      expect(await auditCount()).toBe(before + 1);
    });

    it('valid_to of a begun item: to the start of tomorrow or later is an "end" entry; into the past is 409; removing it from an ended item is 409', async () => {
      const { id, eff, ended } = await setUp();
      const end = await patchItem(id, eff, { valid_to: FUTURE }).expect(200);
      expect(end.body).toMatchObject({ valid_to: `${FUTURE_YEAR - 1}-12-31T23:00:00.000Z`, state: 'effective', rerate_job: null });
      expect((await audit()).pop()).toMatchObject({ action: 'end', object_id: eff });
      expect((await patchItem(id, eff, { valid_to: '2025-06-01' }).expect(409)).body.error).toMatch(/start of tomorrow or later/);
      expect((await patchItem(id, ended, { valid_to: null }).expect(409)).body.error).toMatch(/cannot be removed/);
      // Re-opening an effective item (valid_to removed) is allowed.
      await patchItem(id, eff, { valid_to: null }).expect(200);
      expect((await patchItem(id, eff, { valid_to: '2025-06-01T10:00:00Z' }).expect(400)).body.error).toMatch(/^valid_to: must be the start of a day/);
    });

    it('moving a scheduled item into the past, or extending an ended one, queues a rerate job for the past days that changed', async () => {
      const { id, sched, ended } = await setUp();
      const moved = await patchItem(id, sched, { valid_from: '2025-03-01' }).expect(200);
      const today = await todayStart();
      expect(moved.body).toMatchObject({ state: 'effective', rerate_job: { kind: 'rerate', scope: { start: '2025-02-28T23:00:00.000Z', end: today, project_ids: null, price_list_id: id } } });
      const extended = await patchItem(id, ended, { valid_to: FUTURE }).expect(200);
      // Only the days between the old end (2025-02-01 Berlin) and today changed.
      expect(extended.body).toMatchObject({ state: 'effective', rerate_job: { kind: 'rerate', scope: { start: '2025-01-31T23:00:00.000Z', end: today } } });
      expect((await audit()).pop()).toMatchObject({ action: 'end', object_id: ended });
    });

    it('409 when a PATCH makes a scheduled item overlap another live one, and nothing changes', async () => {
      const { id, sched } = await setUp();
      await patchItem(id, sched, { valid_to: `${FUTURE_YEAR}-06-01` }).expect(200);
      await addItems(id, item({ key: 'sched', valid_from: `${FUTURE_YEAR + 1}-01-01` })).expect(201);
      const before = await auditCount();
      expect((await patchItem(id, sched, { valid_to: `${FUTURE_YEAR + 1}-02-01` }).expect(409)).body.error).toMatch(/same meter, key and subkey/);
      expect((await patchItem(id, sched, { valid_to: null }).expect(409)).body.error).toMatch(/same meter, key and subkey/);
      expect(await auditCount()).toBe(before);
      expect((await get(`/reports/price-lists/${id}?state=scheduled`).expect(200)).body.items.find((i: { id: string }) => i.id === sched).valid_to).toBe(`${FUTURE_YEAR}-05-31T22:00:00.000Z`);
    });

    it('400 naming the field, 404 for an unknown item or list, 409 for a superseded item', async () => {
      const { id, sched, eff } = await setUp();
      expect((await patchItem(id, sched, { unit_price: '1e3' }).expect(400)).body.error).toBe('unit_price: must be a plain decimal, without an exponent');
      expect((await patchItem(id, sched, { price_unit: 'unit' }).expect(400)).body.error).toBe('price_unit: must be hour for instance.time (unit s)');
      expect((await patchItem(id, sched, { meter: 'amie.charge' }).expect(400)).body.error).toMatch(/^subkey: must be a record type/);
      expect((await patchItem(id, sched, { valid_to: `${FUTURE_YEAR - 1}-06-01` }).expect(400)).body.error).toBe('valid_to: must be later than valid_from');
      expect((await patchItem(id, sched, { id: 'x' }).expect(400)).body.error).toBe('id: not a known field');
      expect((await patchItem(id, sched, { valid_from: '2025-02-30' }).expect(400)).body.error).toBe('valid_from: not a valid date or instant');
      expect((await patchItem(id, sched, { valid_to: `${FUTURE_YEAR}-03-01T00:00:00+99:00` }).expect(400)).body.error).toMatch(/^valid_to: /);
      await patchItem(id, 'pi_missing', { unit_price: '1' }).expect(404);
      await patchItem('pl_missing', sched, { unit_price: '1' }).expect(404);
      const other = await newList({ name: 'other', currency: 'USD' });
      await patchItem(other, sched, { unit_price: '1' }).expect(404);
      await correct(id, { reason: 'r', supersede: [eff] }).expect(202);
      expect((await patchItem(id, eff, { valid_to: FUTURE }).expect(409)).body.error).toMatch(/superseded/);
      await patchItem(id, sched, { unit_price: '1' }, await t.token('reader')).expect(403);
    });

    it('DELETE removes a scheduled item (204, one delete entry); a begun or superseded item is 409; unknown is 404', async () => {
      const { id, sched, eff, ended } = await setUp();
      const before = await auditCount();
      await deleteItem(id, sched).expect(204);
      const rows = await audit();
      expect(rows).toHaveLength(before + 1);
      expect(rows[rows.length - 1]).toMatchObject({ action: 'delete', object_id: sched, after: null, before: expect.objectContaining({ id: sched, state: 'scheduled' }) });
      await deleteItem(id, sched).expect(404);
      expect((await deleteItem(id, eff).expect(409)).body.error).toMatch(/Only a scheduled item can be deleted/);
      await deleteItem(id, ended).expect(409);
      await deleteItem('pl_missing', eff).expect(404);
      await deleteItem(id, eff, await t.token('user', { projectIds: ['p1'] })).expect(403);
      expect(await auditCount()).toBe(before + 1);
    });
  });

  describe('POST /admin/reports/price-lists/{id}/corrections', () => {
    it('supersedes and inserts in one transaction: 202, the job in Location, one supersede and one correct entry carrying the reason', async () => {
      const id = await newList({ project_ids: ['p1'] });
      const old = (await addItems(id, item({ key: 'g1.large', unit_price: '2.04', valid_from: '2025-03-01', valid_to: '2025-04-01' })).expect(201)).body.items[0];
      const before = await auditCount();
      const res = await correct(id, {
        reason: 'March GPU price typo',
        supersede: [old.id],
        items: [item({ key: 'g1.large', unit_price: '2.40', valid_from: '2025-02-28T23:00:00.000Z', valid_to: '2025-04-01' })],
      }).expect(202);
      expect(res.body.correction).toEqual({
        id: expect.stringMatching(/^corr_[0-9a-f]{24}$/),
        reason: 'March GPU price typo',
        superseded: [old.id],
        items: [expect.objectContaining({ key: 'g1.large', unit_price: '2.40', state: 'ended', reason: 'March GPU price typo' })],
        created_at: expect.stringMatching(ISO),
        created_by: 'price-admin',
      });
      expect(res.body.job).toMatchObject({
        kind: 'correction',
        reason: 'March GPU price typo',
        scope: { start: '2025-02-28T23:00:00.000Z', end: '2025-03-31T22:00:00.000Z', project_ids: ['p1'], currencies: ['EUR'], recompute_usage: false, price_list_id: id },
      });
      expect(res.headers.location).toBe(`/admin/reports/jobs/${res.body.job.id}`);
      const items = (await get(`/reports/price-lists/${id}`).expect(200)).body.items;
      expect(items.find((i: { id: string }) => i.id === old.id)).toMatchObject({ state: 'superseded', superseded_by: res.body.correction.id });
      const rows = (await audit()).slice(before);
      expect(rows.map((r) => `${r.action} ${r.object_id}`).sort()).toEqual([`correct ${res.body.correction.items[0].id}`, `supersede ${old.id}`].sort());
      expect(rows.every((r) => r.reason === 'March GPU price typo' && r.price_list_id === id)).toBe(true);
      expect(rows.find((r) => r.action === 'supersede')).toMatchObject({ before: expect.objectContaining({ state: 'ended' }), after: expect.objectContaining({ state: 'superseded' }) });
      const stored = await t.runtime.dataSource.query(`SELECT superseded, items, job_id FROM report_price_correction`);
      expect(stored).toEqual([{ superseded: [old.id], items: [res.body.correction.items[0].id], job_id: res.body.job.id }]);
      // Superseding it again is 409.
      expect((await correct(id, { reason: 'again', supersede: [old.id] }).expect(409)).body.error).toMatch(/already superseded/);
    });

    it('a correction of future prices only queues no job (job null, no Location)', async () => {
      const id = await newList();
      const old = (await addItems(id, item()).expect(201)).body.items[0];
      const res = await correct(id, { reason: 'not yet', supersede: [old.id], items: [item({ unit_price: '0.26' })] }).expect(202);
      expect(res.body.job).toBeNull();
      expect(res.headers.location).toBeUndefined();
    });

    it('400 without a reason, for an id of another list, for nothing to do; 409 for overlap, and nothing changes', async () => {
      const id = await newList();
      const other = await newList({ name: 'other', currency: 'USD' });
      const mine = (await addItems(id, item({ valid_from: '2025-01-01' })).expect(201)).body.items[0];
      const theirs = (await addItems(other, item()).expect(201)).body.items[0];
      const before = await auditCount();
      expect((await correct(id, { supersede: [mine.id] }).expect(400)).body).toEqual({ error: 'reason: is required', fields: { reason: 'is required' } });
      expect((await correct(id, { reason: '  ', supersede: [mine.id] }).expect(400)).body.error).toBe('reason: must not be empty');
      expect((await correct(id, { reason: 'r', supersede: [theirs.id] }).expect(400)).body.error).toBe(`supersede: ${theirs.id} is not an item of this price list`);
      expect((await correct(id, { reason: 'r', supersede: ['pi_unknown'] }).expect(400)).body.error).toBe('supersede: pi_unknown is not an item of this price list');
      expect((await correct(id, { reason: 'r' }).expect(400)).body.error).toBe('items: a correction supersedes or inserts at least one item');
      expect((await correct(id, { reason: 'r', items: [item({ unit_price: '1.00000000001' })] }).expect(400)).body.error).toBe('items[0].unit_price: must have at most 10 fractional digits');
      // Inserting over a live item without superseding it: 409, and the item is not superseded either.
      const res = await correct(id, { reason: 'r', supersede: [], items: [item({ valid_from: '2025-06-01' })] }).expect(409);
      expect(res.body.error).toMatch(/same meter, key and subkey/);
      expect((await get(`/reports/price-lists/${id}`).expect(200)).body.items).toEqual([expect.objectContaining({ id: mine.id, state: 'effective' })]);
      expect(await auditCount()).toBe(before);
      expect(await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_price_correction`)).toEqual([{ n: 0 }]);
      await correct('pl_missing', { reason: 'r', supersede: [mine.id] }).expect(404);
      await correct(id, { reason: 'r', supersede: [mine.id] }, await t.token('service')).expect(403);
    });
  });

  describe('GET /reports/price-lists/{id}/audit', () => {
    it('lists the entries of the list and its items oldest first; limit=1 pages add up to the whole; CSV has the same rows', async () => {
      const id = await newList({ name: 'audited' });
      const other = await newList({ name: 'unrelated', currency: 'USD' });
      const it1 = (await addItems(id, item()).expect(201)).body.items[0];
      await patchItem(id, it1.id, { unit_price: '0.5' }).expect(200);
      await deleteItem(id, it1.id).expect(204);
      await patchList(other, { description: 'x' }).expect(200);
      const all = (await get(`/reports/price-lists/${id}/audit`).expect(200)).body;
      expect(all.next_cursor).toBeNull();
      expect(all.entries.map((e: { action: string; object: string }) => `${e.action} ${e.object}`)).toEqual(['create price_list', 'create price_item', 'update price_item', 'delete price_item']);
      expect(all.entries[0]).toEqual({
        id: expect.stringMatching(/^au_/),
        at: expect.stringMatching(ISO),
        actor: 'price-admin',
        action: 'create',
        object: 'price_list',
        object_id: id,
        before: null,
        after: expect.objectContaining({ id, name: 'audited' }),
        reason: null,
      });
      const paged: unknown[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { entries: unknown[]; next_cursor: string | null } } = await get(`/reports/price-lists/${id}/audit?limit=1${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
        expect(res.body.entries.length).toBeLessThanOrEqual(1);
        paged.push(...res.body.entries);
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(all.entries);
      const first = (await get(`/reports/price-lists/${id}/audit?limit=1`).expect(200)).body.next_cursor;
      expect((await get(`/reports/price-lists/${other}/audit?limit=1&cursor=${first}`).expect(400)).body.error).toBe('cursor: belongs to a query with other parameters');
      expect((await get(`/reports/price-lists/${id}/audit?cursor=garbage`).expect(400)).body.error).toMatch(/^cursor: /);
      expect((await get(`/reports/price-lists/${id}/audit?limit=10001`).expect(400)).body.error).toBe('limit: must be a whole number from 1 to 10000');

      const csv = await get(`/reports/price-lists/${id}/audit?format=csv`).expect(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toBe(`attachment; filename="price-lists-${id}-audit.csv"`);
      const rows = parseCsv(csv.text);
      expect(rows[0]).toEqual(['id', 'at', 'actor', 'action', 'object', 'object_id', 'before', 'after', 'reason']);
      expect(rows.slice(1).map((r) => r[0])).toEqual(all.entries.map((e: { id: string }) => e.id));
      expect(JSON.parse(rows[2][7])).toEqual(all.entries[1].after);
      expect(rows[1][6]).toBe('');
      expect((await get(`/reports/price-lists/${id}/audit?format=csv&limit=5`).expect(400)).body.error).toBe('limit: not accepted with CSV: an export has no pages');
      const accept = await get(`/reports/price-lists/${id}/audit`).set('Accept', 'text/csv').expect(200);
      expect(accept.text).toBe(csv.text);
    });

    it('keeps the order of the writes within one call: the list before its items, supersede before correct', async () => {
      const created = await createList({ name: 'L', currency: 'EUR', items: [item({ key: 'b' }), item({ key: 'a' })] }).expect(201);
      const id = created.body.id as string;
      const [a, b] = created.body.items;
      await correct(id, { reason: 'r', supersede: [b.id, a.id], items: [item({ key: 'a', unit_price: '2' })] }).expect(202);
      const entries = (await get(`/reports/price-lists/${id}/audit`).expect(200)).body.entries;
      expect(entries.map((e: { action: string; object_id: string }) => `${e.action} ${e.object_id}`)).toEqual([
        `create ${id}`,
        `create ${a.id}`,
        `create ${b.id}`,
        `supersede ${a.id}`,
        `supersede ${b.id}`,
        `correct ${entries[5].object_id}`,
      ]);
      const times = entries.map((e: { at: string }) => Date.parse(e.at));
      expect([...times].sort((x, y) => x - y)).toEqual(times);
    });

    it('is for admin, reader and service; a user is 403; an unknown list is 404', async () => {
      const id = await newList({ project_ids: ['p1'] });
      for (const role of ['reader', 'service'] as const) {
        expect((await get(`/reports/price-lists/${id}/audit`, await t.token(role, { name: `${role}-a` })).expect(200)).body.entries).toHaveLength(1);
      }
      await get(`/reports/price-lists/${id}/audit`, await t.token('user', { projectIds: ['p1'] })).expect(403);
      await t.http.get(`/reports/price-lists/${id}/audit`).expect(401);
      await get('/reports/price-lists/pl_missing/audit').expect(404);
      await get('/reports/price-lists/pl_missing/audit?format=csv').expect(404);
    });
  });

  describe('§13 item 10: price rules', () => {
    it('PATCH effective 409, scheduled 200, unaligned valid_from 400, overlap 409, one audit entry per changed object per call', async () => {
      const id = await newList();
      let count = await auditCount();
      const expectEntries = async (n: number) => {
        const now = await auditCount();
        expect(now - count).toBe(n);
        count = now;
      };
      await expectEntries(0);
      const res = await addItems(id, { items: [item({ key: 'e', valid_from: '2025-01-01' }), item({ key: 's' })] }).expect(201);
      await expectEntries(2);
      const [e, s] = res.body.items;
      await patchItem(id, e.id, { unit_price: '9' }).expect(409);
      await expectEntries(0);
      await patchItem(id, s.id, { unit_price: '9' }).expect(200);
      await expectEntries(1);
      await addItems(id, item({ key: 'z', valid_from: '2025-01-01T12:00:00+01:00' })).expect(400);
      await expectEntries(0);
      await addItems(id, item({ key: 'e', valid_from: '2025-05-01' })).expect(409);
      await expectEntries(0);
      await patchList(id, { name: 'new name', description: 'x' }).expect(200);
      await expectEntries(1);
      await correct(id, { reason: 'r', supersede: [e.id], items: [item({ key: 'e', valid_from: '2025-01-01', unit_price: '1' }), item({ key: 'f', valid_from: '2025-01-01' })] }).expect(202);
      await expectEntries(3);
      await deleteItem(id, s.id).expect(204);
      await expectEntries(1);
    });
  });

  describe('the no-overlap exclusion constraint (report_price_item_no_overlap_ex)', () => {
    it(`refuses overlapping live items of one list with SQLSTATE 23P01 on ${realServers.database ? 'real PostgreSQL' : 'embedded PGlite'}; superseded items, adjacent days and other keys pass`, async () => {
      const db = t.runtime.dataSource;
      await db.query(`INSERT INTO report_price_list (id, name, currency, created_by) VALUES ('pl_x', 'x', 'EUR', 't')`);
      const insert = (id: string, key: string, from: string, to: string | null, superseded: string | null = null) =>
        db.query(
          `INSERT INTO report_price_item (id, price_list_id, meter, key, subkey, unit_price, price_unit, valid_from, valid_to, valid_from_day, valid_to_day, created_by, superseded_by)
           VALUES ($1, 'pl_x', 'instance.time', $2, '', 1, 'hour', $3::date, $4::date, $3::date, $4::date, 't', $5)`,
          [id, key, from, to, superseded],
        );
      await insert('pi_1', 'a', '2025-01-01', '2025-02-01');
      await insert('pi_2', 'a', '2025-02-01', null);
      await insert('pi_3', 'b', '2025-01-15', null);
      await insert('pi_4', 'a', '2025-01-10', '2025-01-20', 'corr_1');
      const error = await insert('pi_5', 'a', '2025-01-31', '2025-02-02').catch((e: { code?: string; driverError?: { code?: string }; constraint?: string; driverError2?: unknown }) => e);
      expect(error).toBeInstanceOf(Error);
      const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
      expect(e.code ?? e.driverError?.code).toBe('23P01');
      expect(e.constraint ?? e.driverError?.constraint).toBe('report_price_item_no_overlap_ex');
      // Open-ended ranges overlap everything after their start.
      await expect(insert('pi_6', 'a', '2030-01-01', null)).rejects.toThrow();
      // Un-superseding an item into an overlap is refused too.
      await expect(db.query(`UPDATE report_price_item SET superseded_by = NULL WHERE id = 'pi_4'`)).rejects.toThrow();
      expect((await db.query(`SELECT id FROM report_price_item ORDER BY id`)).map((r: { id: string }) => r.id)).toEqual(['pi_1', 'pi_2', 'pi_3', 'pi_4']);
    });
  });
});
