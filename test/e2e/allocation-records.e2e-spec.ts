import { action, Catalogue, createAllocation, form, ROOT, seedCatalogue } from '../support/allocation-fixtures';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

describe('records of an allocation (allocations.md 7, 9)', () => {
  let cat: Catalogue;
  let service: string;
  let reader: string;
  let alice: string;
  let bob: string;

  const t = useTestApp();

  beforeEach(async () => {
    cat = await seedCatalogue(t);
    service = await t.token('service');
    reader = await t.token('reader');
    alice = await t.token('user', { userId: 'alice@example.org', projectIds: ['p-alice'] });
    bob = await t.token('user', { userId: 'bob@example.org', projectIds: ['p-bob'] });
  });

  const post = (kind: string, body: Record<string, unknown>, token = ADMIN_TOKEN) => t.http.post(`${ROOT}/${kind}/`).set('X-Auth-Token', token).type('form').send(form(body));
  const get = (path: string, token = ADMIN_TOKEN) => t.http.get(`${ROOT}${path}`).set('X-Auth-Token', token);
  const del = (path: string, token = ADMIN_TOKEN) => t.http.delete(`${ROOT}${path}`).set('X-Auth-Token', token);
  const ci = (allocation: number, extra: Record<string, unknown> = {}) => ({
    allocation,
    title: 'Dr',
    given_name: 'Grace',
    surname: 'Hopper',
    email: 'grace@example.org',
    primary_organisation: cat.organisation.id,
    additional_researchers: '',
    ...extra,
  });
  const grant = (allocation: number, extra: Record<string, unknown> = {}) => ({
    allocation,
    grant_type: 'arc',
    grant_subtype: 'arc-discovery',
    first_year_funded: 2020,
    last_year_funded: 2023,
    total_funding: 250000,
    funding_body_scheme: 'Discovery',
    grant_id: 'DP1',
    ...extra,
  });
  const publication = (allocation: number, extra: Record<string, unknown> = {}) => ({ allocation, output_type: 'AJ', publication: 'Smith et al.', doi: '10.1234/abc', ...extra });

  /** A new allocation, given an associated site and approved. */
  async function approvedAllocation(token = ADMIN_TOKEN, extra: Record<string, unknown> = {}) {
    const a = await createAllocation(t, token, { project_name: `p${Math.random().toString(36).slice(2, 8)}`, ...extra });
    await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ associated_site: 'uom' }).expect(200);
    await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
    return a;
  }

  describe('POST /quotas/', () => {
    it('creates a quota from the client form body, requested_quota defaulting to quota, and embeds it', async () => {
      const a = await createAllocation(t, alice, { bundle: 'small' });
      const res = await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 16 }, alice);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: expect.any(Number), allocation: a.id, resource: cat.cores, zone: 'melbourne', requested_quota: 16, quota: 16 });
      await post('quotas', { allocation: a.id, resource: cat.flag, zone: 'melbourne', quota: 1, requested_quota: 0 }, service).expect(201);
      const alloc = await get(`/allocations/${a.id}/`, alice).expect(200);
      expect(alloc.body.quotas).toEqual([
        { zone: 'melbourne', resource: 'rating.budget', quota: 300 },
        { zone: 'melbourne', resource: 'compute.cores', quota: 16 },
        { zone: 'melbourne', resource: 'compute.gpu', quota: 1 },
      ]);
    });

    it('replaces the bundle budget when the allocation has its own rating.budget quota', async () => {
      await t.http.post(`${ROOT}/service-types/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ catalog_name: 'rating', name: 'Rating', zones: ['melbourne'] })).expect(201);
      const budget = await t.http.post(`${ROOT}/resources/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ name: 'Budget', service_type: 'rating', quota_name: 'budget', unit: 'SU' })).expect(201);
      const a = await createAllocation(t, ADMIN_TOKEN, { bundle: 'small' });
      await post('quotas', { allocation: a.id, resource: budget.body.id, zone: 'melbourne', quota: 5 }).expect(201);
      expect((await get(`/allocations/${a.id}/`)).body.quotas).toEqual([{ zone: 'melbourne', resource: 'rating.budget', quota: 5 }]);
    });

    it('answers 400 for each invalid field', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const unmanaged = await createAllocation(t, ADMIN_TOKEN, { project_name: 'unmanaged', managed: false });
      await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 2 }).expect(201);
      const cases: [Record<string, unknown>, string][] = [
        [{ allocation: undefined }, 'allocation'],
        [{ allocation: 999999 }, 'allocation'],
        [{ allocation: 'abc' }, 'allocation'],
        [{ resource: 999999 }, 'resource'],
        [{ zone: 'nowhere' }, 'zone'],
        [{ zone: 'monash' }, 'zone'],
        [{ resource: cat.cores }, 'resource'],
        [{ quota: -2 }, 'quota'],
        [{ quota: 'lots' }, 'quota'],
        [{ quota: 99999999999 }, 'quota'],
        [{ allocation: 99999999999 }, 'allocation'],
        [{ quota: 1, requested_quota: -5 }, 'requested_quota'],
        [{ quota: -1 }, 'quota'],
      ];
      for (const [overrides, field] of cases) {
        const res = await post('quotas', { allocation: a.id, resource: cat.flag, zone: 'melbourne', quota: 1, ...overrides });
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
      await post('quotas', { allocation: unmanaged.id, resource: cat.cores, zone: 'melbourne', quota: -1 }).expect(201);
    });

    it('answers 400 for an allocation the user cannot see, 403 for a reader, 401 without a token', async () => {
      const a = await createAllocation(t, bob);
      const res = await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 1 }, alice);
      expect(res.status).toBe(400);
      expect(res.body.fields).toHaveProperty('allocation');
      await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 1 }, reader).expect(403);
      await t.http.post(`${ROOT}/quotas/`).type('form').send(form({ allocation: a.id })).expect(401);
    });

    it('answers 409 when the allocation is not E or X, or is a history record', async () => {
      const a = await approvedAllocation();
      let res = await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 1 });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/status is A/);
      const [snap] = (await get(`/allocations/?parent_request=${a.id}`)).body.results;
      res = await post('quotas', { allocation: snap.id, resource: cat.cores, zone: 'melbourne', quota: 1 });
      expect(res.status).toBe(409);
      await action(t, ADMIN_TOKEN, a.id, 'amend').expect(200);
      await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 1 }).expect(201);
    });
  });

  describe('GET /quotas/', () => {
    it('filters by the client group names and resource, and shows a user only its own', async () => {
      await t.http.post(`${ROOT}/service-types/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ catalog_name: 'volume', name: 'Volume', zones: ['melbourne', 'monash'] })).expect(201);
      const gb = (await t.http.post(`${ROOT}/resources/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ name: 'GB', service_type: 'volume', quota_name: 'gigabytes', unit: 'GB' }))).body;
      const a = await createAllocation(t, alice, { project_name: 'a' });
      const b = await createAllocation(t, bob, { project_name: 'b' });
      const q1 = (await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 1 })).body;
      const q2 = (await post('quotas', { allocation: a.id, resource: gb.id, zone: 'monash', quota: 10 })).body;
      const q3 = (await post('quotas', { allocation: b.id, resource: cat.cores, zone: 'melbourne', quota: 2 })).body;
      const ids = async (q: string, token = ADMIN_TOKEN) => (await get(`/quotas/?${q}`, token).expect(200)).body.results.map((r: any) => r.id);
      expect(await ids('')).toEqual([q1.id, q2.id, q3.id]);
      expect(await ids(`group__allocation=${a.id}`)).toEqual([q1.id, q2.id]);
      expect(await ids('group__zone=monash')).toEqual([q2.id]);
      expect(await ids('group__service_type=compute')).toEqual([q1.id, q3.id]);
      expect(await ids(`group__allocation=${a.id}&group__service_type=volume&group__zone=monash`)).toEqual([q2.id]);
      expect(await ids(`resource=${cat.cores}`)).toEqual([q1.id, q3.id]);
      expect(await ids('', alice)).toEqual([q1.id, q2.id]);
      expect(await ids('', reader)).toEqual([q1.id, q2.id, q3.id]);
      await get('/quotas/?group__allocation=abc').expect(400);
      const page = await get('/quotas/?limit=2').expect(200);
      expect(page.body.count).toBe(3);
      expect(page.body.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/allocations\/v1\/quotas\/\?limit=2&offset=2$/);
    });
  });

  describe('GET /quotas/:id/', () => {
    it('answers the quota, or 404 when absent or not visible', async () => {
      const a = await createAllocation(t, bob);
      const q = (await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 3 })).body;
      expect((await get(`/quotas/${q.id}/`, bob).expect(200)).body).toEqual(q);
      await get(`/quotas/${q.id}/`, alice).expect(404);
      await get('/quotas/999999/').expect(404);
      await get('/quotas/99999999999/').expect(404);
    });
  });

  describe('DELETE /quotas/:id/', () => {
    it('answers 204 without a body for the owner while E or X', async () => {
      const a = await createAllocation(t, alice);
      const q = (await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 3 })).body;
      const res = await del(`/quotas/${q.id}/`, alice);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      await get(`/quotas/${q.id}/`).expect(404);
    });

    it('answers 404 when not visible, 403 to a reader, 409 when not E or X or on history', async () => {
      const a = await createAllocation(t, bob);
      const q = (await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 3 })).body;
      await del(`/quotas/${q.id}/`, alice).expect(404);
      await del(`/quotas/${q.id}/`, reader).expect(403);
      await del('/quotas/999999/', reader).expect(404);
      await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      await del(`/quotas/${q.id}/`, bob).expect(409);
      await del(`/quotas/${q.id}/`, ADMIN_TOKEN).expect(409);
      const [copy] = (await get(`/quotas/?group__allocation=${(await get(`/allocations/?parent_request=${a.id}`)).body.results[0].id}`)).body.results;
      await del(`/quotas/${copy.id}/`).expect(409);
    });

    it('answers 405 to PUT and PATCH', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const q = (await post('quotas', { allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 3 })).body;
      for (const method of ['put', 'patch'] as const) {
        const res = await t.http[method](`${ROOT}/quotas/${q.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ quota: 5 });
        expect(res.status).toBe(405);
        expect(res.headers.allow).toBe('DELETE, GET, HEAD');
      }
    });
  });

  describe('chief investigators', () => {
    it('creates, lists, gets, patches and deletes for the owner, and sets chief_investigator', async () => {
      const a = await createAllocation(t, alice);
      const created = await post('chiefinvestigators', ci(a.id, { primary_organisation: 'https://ror.org/00abc1234' }), alice);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(Number),
        allocation: a.id,
        title: 'Dr',
        given_name: 'Grace',
        surname: 'Hopper',
        email: 'grace@example.org',
        primary_organisation: 'https://ror.org/00abc1234',
        additional_researchers: '',
      });
      expect((await get(`/allocations/${a.id}/`, alice)).body.chief_investigator).toBe('grace@example.org');
      const list = await get(`/chiefinvestigators/?allocation=${a.id}`, alice).expect(200);
      expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
      await get(`/chiefinvestigators/${created.body.id}/`, alice).expect(200);
      const patched = await t.http.patch(`${ROOT}/chiefinvestigators/${created.body.id}/`).set('X-Auth-Token', alice).type('form').send(form({ title: 'Prof', primary_organisation: 'UoT' }));
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ title: 'Prof', given_name: 'Grace', primary_organisation: cat.organisation.id });
      await del(`/chiefinvestigators/${created.body.id}/`, alice).expect(204);
      await get(`/chiefinvestigators/${created.body.id}/`, alice).expect(404);
    });

    it('validates fields with 400 and refuses the catch-all organisation', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const all = (await t.http.post(`${ROOT}/organisations/`).set('X-Auth-Token', ADMIN_TOKEN).send({ full_name: 'All Organisations', short_name: 'All' })).body;
      const cases: [Record<string, unknown>, string][] = [
        [{ title: undefined }, 'title'],
        [{ title: 'x'.repeat(61) }, 'title'],
        [{ given_name: '' }, 'given_name'],
        [{ surname: 'x'.repeat(201) }, 'surname'],
        [{ email: 'not-an-email' }, 'email'],
        [{ primary_organisation: undefined }, 'primary_organisation'],
        [{ primary_organisation: 'nowhere' }, 'primary_organisation'],
        [{ primary_organisation: all.id }, 'primary_organisation'],
        [{ additional_researchers: 'x'.repeat(1001) }, 'additional_researchers'],
      ];
      for (const [overrides, field] of cases) {
        const res = await post('chiefinvestigators', ci(a.id, overrides));
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
    });

    it('applies visibility and state: 404 / 400 for strangers, 403 for readers, 409 after approval', async () => {
      const a = await createAllocation(t, bob);
      const c = (await post('chiefinvestigators', ci(a.id))).body;
      await get(`/chiefinvestigators/${c.id}/`, alice).expect(404);
      expect((await get('/chiefinvestigators/', alice)).body.count).toBe(0);
      expect((await get('/chiefinvestigators/', reader)).body.count).toBe(1);
      await post('chiefinvestigators', ci(a.id), alice).expect(400);
      await post('chiefinvestigators', ci(a.id), reader).expect(403);
      await t.http.patch(`${ROOT}/chiefinvestigators/${c.id}/`).set('X-Auth-Token', alice).send({ title: 'x' }).expect(404);
      await t.http.patch(`${ROOT}/chiefinvestigators/${c.id}/`).set('X-Auth-Token', reader).send({ title: 'x' }).expect(403);
      await del(`/chiefinvestigators/${c.id}/`, reader).expect(403);
      await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      await t.http.patch(`${ROOT}/chiefinvestigators/${c.id}/`).set('X-Auth-Token', bob).send({ title: 'x' }).expect(409);
      await del(`/chiefinvestigators/${c.id}/`, ADMIN_TOKEN).expect(409);
      await post('chiefinvestigators', ci(a.id)).expect(409);
    });
  });

  describe('grants', () => {
    it('creates, lists, gets and deletes for the owner', async () => {
      const a = await createAllocation(t, alice);
      const created = await post('grants', grant(a.id), alice);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(Number),
        allocation: a.id,
        grant_type: 'arc',
        grant_subtype: 'arc-discovery',
        funding_body_scheme: 'Discovery',
        grant_id: 'DP1',
        first_year_funded: 2020,
        last_year_funded: 2023,
        total_funding: 250000,
      });
      expect((await get(`/grants/?allocation=${a.id}`, alice)).body.count).toBe(1);
      expect((await get('/grants/', bob)).body.count).toBe(0);
      await get(`/grants/${created.body.id}/`, alice).expect(200);
      await get(`/grants/${created.body.id}/`, bob).expect(404);
      await del(`/grants/${created.body.id}/`, bob).expect(404);
      await del(`/grants/${created.body.id}/`, alice).expect(204);
    });

    it('validates fields with 400', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const cases: [Record<string, unknown>, string][] = [
        [{ grant_type: 'lottery' }, 'grant_type'],
        [{ grant_subtype: '' }, 'grant_subtype'],
        [{ grant_subtype: 'has space' }, 'grant_subtype'],
        [{ first_year_funded: 1969 }, 'first_year_funded'],
        [{ last_year_funded: 3001 }, 'last_year_funded'],
        [{ first_year_funded: 2024, last_year_funded: 2023 }, 'last_year_funded'],
        [{ total_funding: 0 }, 'total_funding'],
        [{ total_funding: 'much' }, 'total_funding'],
        [{ grant_id: 'x'.repeat(201) }, 'grant_id'],
      ];
      for (const [overrides, field] of cases) {
        const res = await post('grants', grant(a.id, overrides));
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
    });

    it('answers 405 to PATCH, 403 to a reader, 409 when the allocation is approved', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const g = (await post('grants', grant(a.id))).body;
      const res = await t.http.patch(`${ROOT}/grants/${g.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ grant_id: 'x' });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('DELETE, GET, HEAD');
      await post('grants', grant(a.id), reader).expect(403);
      await del(`/grants/${g.id}/`, reader).expect(403);
      await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      await post('grants', grant(a.id), service).expect(409);
      await del(`/grants/${g.id}/`, service).expect(409);
    });
  });

  describe('publications', () => {
    it('creates, lists, gets and deletes for the owner', async () => {
      const a = await createAllocation(t, alice);
      const created = await post('publications', publication(a.id), alice);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), allocation: a.id, output_type: 'AJ', publication: 'Smith et al.', doi: '10.1234/abc' });
      await post('publications', publication(a.id, { publication: '' }), alice).expect(201);
      await post('publications', publication(a.id, { doi: '' }), alice).expect(201);
      expect((await get(`/publications/?allocation=${a.id}`, alice)).body.count).toBe(3);
      expect((await get('/publications/', bob)).body.count).toBe(0);
      await get(`/publications/${created.body.id}/`, alice).expect(200);
      await get(`/publications/${created.body.id}/`, bob).expect(404);
      await del(`/publications/${created.body.id}/`, alice).expect(204);
    });

    it('validates fields with 400', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const cases: [Record<string, unknown>, string][] = [
        [{ output_type: 'XX' }, 'output_type'],
        [{ output_type: undefined }, 'output_type'],
        [{ doi: 'doi:10.1/x' }, 'doi'],
        [{ publication: 'x'.repeat(513) }, 'publication'],
        [{ publication: '', doi: '' }, 'publication'],
      ];
      for (const [overrides, field] of cases) {
        const res = await post('publications', publication(a.id, overrides));
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
    });

    it('answers 405 to PATCH, 403 to a reader, 409 on a history record', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const p = (await post('publications', publication(a.id))).body;
      await t.http.patch(`${ROOT}/publications/${p.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ doi: '' }).expect(405);
      await post('publications', publication(a.id), reader).expect(403);
      await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      const [snap] = (await get(`/allocations/?parent_request=${a.id}`)).body.results;
      const [copy] = (await get(`/publications/?allocation=${snap.id}`)).body.results;
      await del(`/publications/${copy.id}/`).expect(409);
      await post('publications', publication(snap.id)).expect(409);
    });
  });
});
