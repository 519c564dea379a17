import { action, Catalogue, createAllocation, form, ROOT, seedCatalogue } from '../support/allocation-fixtures';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, startTestApp, TestApp, useTestApp } from '../support/test-app';

describe('Nectar allocations (allocations.md 1-6)', () => {
  let cat: Catalogue;
  let service: string;
  let reader: string;
  let alice: string; // user owning project p-alice
  let bob: string; // another user

  const t = useTestApp();

  beforeEach(async () => {
    cat = await seedCatalogue(t);
    service = await t.token('service', { name: 'svc', userId: 'svc@example.org' });
    reader = await t.token('reader');
    alice = await t.token('user', { userId: 'alice@example.org', projectIds: ['p-alice'] });
    bob = await t.token('user', { userId: 'bob@example.org', projectIds: ['p-bob'] });
  });

  const get = (path: string, token = ADMIN_TOKEN) => t.http.get(`${ROOT}${path}`).set('X-Auth-Token', token);
  const patch = (id: number, body: Record<string, unknown>, token = ADMIN_TOKEN) =>
    t.http.patch(`${ROOT}/allocations/${id}/`).set('X-Auth-Token', token).type('form').send(form(body));
  const sql = (text: string, params: unknown[] = []) => t.runtime.dataSource.query(text, params);

  describe('mount, versions and wire conventions', () => {
    it('answers the versions document at the alias root and under versions/ of both prefixes', async () => {
      const expected = { versions: [{ id: 'v1.2', status: 'CURRENT', version: '1.2' }] };
      for (const path of ['/allocations', '/allocations/', '/allocations/v1/versions/', '/allocations/versions', '/allocations/versions/']) {
        const res = await t.http.get(path).set('X-Auth-Token', reader);
        expect(res.status).toBe(200);
        expect(res.body).toEqual(expected);
      }
    });

    it('answers 401 with a JSON error without a token or with an unknown one', async () => {
      for (const token of [undefined, 'no-such-token']) {
        const req = t.http.get(`${ROOT}/allocations/`);
        if (token) req.set('X-Auth-Token', token);
        const res = await req;
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body).toEqual({ error: expect.any(String) });
      }
      await t.http.get('/allocations/').expect(401);
    });

    it('serves the same routes under the alias prefix, and /allocations/v1/ is not a collection', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const res = await t.http.get(`/allocations/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      expect(res.body.id).toBe(a.id);
      await t.http.get('/allocations/v1/').set('X-Auth-Token', ADMIN_TOKEN).expect(404);
      await t.http.get('/allocations/v1/allocations/v1').set('X-Auth-Token', ADMIN_TOKEN).expect(404);
      const unknown = await t.http.get('/allocations/v1/nothing/').set('X-Auth-Token', ADMIN_TOKEN);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error: expect.any(String) });
    });

    it('routes paths with and without the trailing slash alike', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      await get(`/allocations/${a.id}`).expect(200);
      await get(`/allocations/${a.id}/`).expect(200);
    });

    it('answers JSON to Accept: */*', async () => {
      const res = await get('/allocations/').set('Accept', '*/*').expect(200);
      expect(res.headers['content-type']).toMatch(/application\/json/);
    });

    it('answers 405 with Allow for DELETE and PUT on an allocation', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      for (const method of ['delete', 'put'] as const) {
        const res = await t.http[method](`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN);
        expect(res.status).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD, PATCH');
        expect(res.body).toEqual({ error: expect.any(String) });
      }
    });

    it('answers 415 for a body that is neither JSON nor form-encoded', async () => {
      const res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'text/plain').send('hello');
      expect(res.status).toBe(415);
      expect(res.body).toEqual({ error: expect.any(String) });
    });

    it('accepts an action with an empty body sent as application/json', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom' });
      const res = await t.http.post(`${ROOT}/allocations/${a.id}/approve/`).set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send('');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('A');
    });

    it('ignores X-PROJECT-ID', async () => {
      await createAllocation(t, ADMIN_TOKEN, { project_id: 'p-bob' });
      const res = await get('/allocations/', alice).set('X-PROJECT-ID', 'p-bob').expect(200);
      expect(res.body.count).toBe(0);
    });
  });

  describe('GET /allocations/', () => {
    it('pages with count and absolute next/previous links that keep the filters', async () => {
      for (const name of ['p1', 'p2', 'p3']) await createAllocation(t, ADMIN_TOKEN, { project_name: name });
      const first = await get('/allocations/?limit=2&parent_request__isnull=True').expect(200);
      expect(first.body.count).toBe(3);
      expect(first.body.results).toHaveLength(2);
      expect(first.body.previous).toBeNull();
      const next = new URL(first.body.next);
      expect(next.protocol).toBe('http:');
      expect(next.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(next.pathname).toBe('/allocations/v1/allocations/');
      expect(Object.fromEntries(next.searchParams)).toEqual({ parent_request__isnull: 'True', limit: '2', offset: '2' });
      const second = await t.http.get(`${next.pathname}${next.search}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      expect(second.body.results).toHaveLength(1);
      expect(second.body.next).toBeNull();
      expect(new URL(second.body.previous).searchParams.get('offset')).toBe('0');
      const ids = [...first.body.results, ...second.body.results].map((a: { id: number }) => a.id);
      expect(new Set(ids).size).toBe(3);
    });

    it('keeps the alias prefix in links and ignores X-Forwarded-Host without TRUST_PROXY', async () => {
      for (const name of ['p1', 'p2']) await createAllocation(t, ADMIN_TOKEN, { project_name: name });
      const res = await t.http.get('/allocations/allocations/?limit=1').set('X-Auth-Token', ADMIN_TOKEN).set('X-Forwarded-Host', 'evil.example').expect(200);
      const next = new URL(res.body.next);
      expect(next.host).not.toBe('evil.example');
      expect(next.pathname).toBe('/allocations/allocations/');
    });

    it('orders by modified_time descending, newest first', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'older' });
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'newer' });
      let res = await get('/allocations/').expect(200);
      expect(res.body.results.map((r: { id: number }) => r.id)).toEqual([b.id, a.id]);
      await patch(a.id, { usage_patterns: 'touched' }).expect(200);
      res = await get('/allocations/').expect(200);
      expect(res.body.results.map((r: { id: number }) => r.id)).toEqual([a.id, b.id]);
    });

    it('answers 400 for a negative or non-integer limit or offset and clamps large limits', async () => {
      for (const q of ['limit=-1', 'limit=abc', 'offset=-3', 'offset=1.5']) {
        const res = await get(`/allocations/?${q}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toEqual(expect.any(String));
        expect(res.body.fields).toBeDefined();
      }
      await createAllocation(t, ADMIN_TOKEN, { project_name: 'x1' });
      await createAllocation(t, ADMIN_TOKEN, { project_name: 'x2' });
      expect((await get('/allocations/?limit=0').expect(200)).body.results).toHaveLength(2);
      const res = await get('/allocations/?limit=5000&offset=1').expect(200);
      expect(res.body.results).toHaveLength(1);
      expect(new URL(res.body.previous).searchParams.get('limit')).toBe('1000');
    });

    it('filters by status and status__in and refuses an unknown status', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'a1', associated_site: 'uom' });
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'b1' });
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      expect((await get('/allocations/?status=A&parent_request__isnull=True')).body.results.map((r: any) => r.id)).toEqual([a.id]);
      expect((await get('/allocations/?status__in=E,A&parent_request__isnull=True')).body.count).toBe(2);
      expect((await get('/allocations/?status=L')).body.count).toBe(0);
      expect((await get('/allocations/?status=E&parent_request__isnull=True')).body.results.map((r: any) => r.id)).toEqual([b.id]);
      // The snapshot taken by approve keeps status E.
      expect((await get('/allocations/?status=E&parent_request__isnull=False')).body.results.map((r: any) => r.parent_request)).toEqual([a.id]);
      await get('/allocations/?status=Q').expect(400);
      await get('/allocations/?status__in=A,Q').expect(400);
    });

    it('filters by project id, text lookups, regex and booleans', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'Alpha_One', project_id: 'pa', convert_trial_project: true });
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'beta-two', project_id: 'pb', national: true });
      const ids = async (q: string) => (await get(`/allocations/?${q}`).expect(200)).body.results.map((r: any) => r.id).sort();
      expect(await ids('project_id=pa')).toEqual([a.id]);
      expect(await ids('project_id__in=pa,pb')).toEqual([a.id, b.id].sort());
      expect(await ids('project_name=Alpha_One')).toEqual([a.id]);
      expect(await ids('project_name=alpha_one')).toEqual([]);
      expect(await ids('project_name__iexact=alpha_one')).toEqual([a.id]);
      expect(await ids('project_name__contains=ph')).toEqual([a.id]);
      expect(await ids('project_name__contains=PH')).toEqual([]);
      expect(await ids('project_name__icontains=PH')).toEqual([a.id]);
      expect(await ids('project_name__startswith=beta')).toEqual([b.id]);
      expect(await ids('project_name__istartswith=ALPHA')).toEqual([a.id]);
      expect(await ids('project_name__endswith=two')).toEqual([b.id]);
      expect(await ids('project_name__iendswith=ONE')).toEqual([a.id]);
      expect(await ids('project_name__contains=_')).toEqual([a.id]);
      expect(await ids(`project_name__regex=${encodeURIComponent('^b.*o$')}`)).toEqual([b.id]);
      expect(await ids('contact_email__icontains=ADMIN')).toEqual([a.id, b.id].sort());
      expect(await ids('convert_trial_project=True')).toEqual([a.id]);
      expect(await ids('national=true')).toEqual([b.id]);
      expect(await ids('managed=1&notifications=True')).toEqual([a.id, b.id].sort());
      expect(await ids('provisioned=False')).toEqual([a.id, b.id].sort());
      expect(await ids('no_such_filter=1')).toEqual([a.id, b.id].sort());
      const bad = await get(`/allocations/?project_name__regex=${encodeURIComponent('(')}`);
      expect(bad.status).toBe(400);
      expect(bad.body.fields).toHaveProperty('project_name__regex');
      await get('/allocations/?national=yes').expect(400);
      await get('/allocations/?parent_request__isnull=maybe').expect(400);
      await get('/allocations/?parent_request=abc').expect(400);
    });

    it('filters by associated site, allocation home and chief investigator', async () => {
      const site = await createAllocation(t, ADMIN_TOKEN, { project_name: 's1', associated_site: 'uom' });
      const national = await createAllocation(t, ADMIN_TOKEN, { project_name: 'n1', national: true, associated_site: 'uom' });
      const none = await createAllocation(t, ADMIN_TOKEN, { project_name: 'u1' });
      await t.http
        .post(`${ROOT}/chiefinvestigators/`)
        .set('X-Auth-Token', ADMIN_TOKEN)
        .type('form')
        .send(form({ allocation: none.id, title: 'Dr', given_name: 'C', surname: 'I', email: 'ci@example.org', primary_organisation: cat.organisation.id }))
        .expect(201);
      const ids = async (q: string) => (await get(`/allocations/?${q}`).expect(200)).body.results.map((r: any) => r.id).sort();
      expect(await ids('associated_site=uom')).toEqual([site.id, national.id].sort());
      expect(await ids('associated_site=nowhere')).toEqual([]);
      expect(await ids('allocation_home=national')).toEqual([national.id]);
      expect(await ids('allocation_home=unassigned')).toEqual([none.id]);
      expect(await ids('allocation_home=uom')).toEqual([site.id]);
      expect(await ids('chief_investigator=ci@example.org')).toEqual([none.id]);
    });

    it('filters by dates and date-times, a value read back selecting the same instant', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'd1', start_date: '2024-01-10', end_date: '2024-07-10' });
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'd2', start_date: '2025-03-01' });
      const ids = async (q: string) => (await get(`/allocations/?${q}`).expect(200)).body.results.map((r: any) => r.id).sort();
      expect(a.start_date).toBe('2024-01-10');
      expect(await ids('start_date=2024-01-10')).toEqual([a.id]);
      expect(await ids('start_date__gte=2024-06-01')).toEqual([b.id]);
      expect(await ids('start_date__lt=2024-06-01')).toEqual([a.id]);
      expect(await ids('start_date__lte=2025-03-01')).toEqual([a.id, b.id].sort());
      expect(await ids('start_date__gt=2025-03-01')).toEqual([]);
      expect(await ids('start_date__year=2025')).toEqual([b.id]);
      expect(await ids('end_date__year=2024')).toEqual([a.id]);
      expect(a.modified_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(await ids(`modified_time=${encodeURIComponent(a.modified_time)}`)).toEqual([a.id]);
      expect(await ids(`modified_time__gt=${encodeURIComponent(a.modified_time)}`)).toEqual([b.id]);
      expect(await ids(`modified_time__lte=${encodeURIComponent(a.modified_time)}`)).toEqual([a.id]);
      const today = a.submit_date.slice(0, 10);
      expect(await ids(`submit_date__date=${today}`)).toEqual([a.id, b.id].sort());
      expect(await ids(`submit_date__gte=${today}`)).toEqual([a.id, b.id].sort());
      expect(await ids(`submit_date__year=${today.slice(0, 4)}`)).toEqual([a.id, b.id].sort());
      expect(await ids(`submit_date__lt=${encodeURIComponent(a.submit_date.slice(0, 19))}`)).toEqual([]);
      await get('/allocations/?start_date=2024-13-01').expect(400);
      await get('/allocations/?modified_time__gt=yesterday').expect(400);
      await get('/allocations/?submit_date__year=abc').expect(400);
      await get('/allocations/?modified_time__gt=0000-01-01').expect(400);
      await get('/allocations/?project_name__icontains=%00').expect(400);
      await get('/allocations/?project_id=%00').expect(400);
    });

    it('shows a user only allocations of its projects or that it created, without notes', async () => {
      const mine = await createAllocation(t, ADMIN_TOKEN, { project_name: 'mine', project_id: 'p-alice', notes: 'secret' });
      const created = await createAllocation(t, alice, { project_name: 'created' });
      await createAllocation(t, bob, { project_name: 'bobs' });
      await createAllocation(t, ADMIN_TOKEN, { project_name: 'other', project_id: 'p-other' });
      const res = await get('/allocations/', alice).expect(200);
      expect(res.body.count).toBe(2);
      expect(res.body.results.map((r: any) => r.id).sort()).toEqual([mine.id, created.id].sort());
      for (const r of res.body.results) {
        expect(r).not.toHaveProperty('notes');
        expect(r).not.toHaveProperty('status_explanation');
      }
      for (const token of [reader, service, ADMIN_TOKEN]) {
        const all = await get('/allocations/', token).expect(200);
        expect(all.body.count).toBe(4);
        expect(all.body.results.find((r: any) => r.id === mine.id).notes).toBe('secret');
      }
    });
  });

  describe('GET /allocations/:id/', () => {
    it('answers every field the client needs', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { bundle: 'small', estimated_project_duration: 6 });
      const res = await get(`/allocations/${a.id}/`, reader).expect(200);
      expect(res.body).toMatchObject({
        id: a.id,
        parent_request: null,
        status: 'E',
        status_display: 'Submitted',
        approver_email: '',
        allocation_home: 'unassigned',
        allocation_home_display: 'Unassigned',
        bundle: 'small',
        chief_investigator: null,
        quotas: [{ zone: 'melbourne', resource: 'rating.budget', quota: 600 }],
      });
    });

    it('answers 404 for an unknown id, a non-integer id, and an allocation the user may not see', async () => {
      const a = await createAllocation(t, bob);
      await get('/allocations/999999/').expect(404);
      await get('/allocations/abc/').expect(404);
      await get('/allocations/99999999999/').expect(404);
      await get('/allocations/?parent_request=99999999999').expect(400);
      const res = await get(`/allocations/${a.id}/`, alice);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: expect.any(String) });
      await get(`/allocations/${a.id}/`, bob).expect(200);
    });
  });

  describe('POST /allocations/', () => {
    it('creates from the client form body with status E and the defaults', async () => {
      const res = await t.http
        .post(`${ROOT}/allocations/`)
        .set('X-Auth-Token', alice)
        .type('form')
        .send(form({ project_name: 'new-proj', project_description: 'Desc', use_case: 'Science', supported_organisations: [cat.organisation.id] }));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        status: 'E',
        parent_request: null,
        estimated_project_duration: 12,
        for_percentage_1: 100,
        for_percentage_2: 0,
        contact_email: 'alice@example.org',
        notifications: true,
        managed: true,
        provisioned: false,
        national: false,
        quotas: [],
        supported_organisations: [cat.organisation.id],
      });
      expect(res.body.submit_date).toBe(res.body.modified_time);
    });

    it('accepts a JSON body with real booleans and lists', async () => {
      const res = await t.http
        .post(`${ROOT}/allocations/`)
        .set('X-Auth-Token', ADMIN_TOKEN)
        .send({
          project_name: 'json-proj',
          project_description: 'Desc',
          use_case: 'Science',
          convert_trial_project: true,
          national: true,
          supported_organisations: ['https://ror.org/00abc1234', 'uot'],
          ncris_facilities: ['australian microscopy facility'],
          ardc_support: ['nectar'],
          usage_types: ['Teaching', 'Research'],
          field_of_research_1: '4601',
          for_percentage_1: 60,
          field_of_research_2: '460102',
          for_percentage_2: 40,
        });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        convert_trial_project: true,
        national: true,
        allocation_home: 'national',
        allocation_home_display: 'National',
        supported_organisations: ['https://ror.org/00abc1234', cat.organisation.id],
        ncris_facilities: ['AMF'],
        ardc_support: ['NECTAR'],
        usage_types: ['Teaching', 'Research'],
        contact_email: 'admin',
      });
    });

    it('names every invalid field in a 400', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ project_description: undefined }, 'project_description'],
        [{ use_case: '' }, 'use_case'],
        [{ project_description: 'x'.repeat(201) }, 'project_description'],
        [{ convert_trial_project: 'yes' }, 'convert_trial_project'],
        [{ estimated_project_duration: 5 }, 'estimated_project_duration'],
        [{ estimated_number_users: 0 }, 'estimated_number_users'],
        [{ for_percentage_1: 15 }, 'for_percentage_1'],
        [{ for_percentage_1: 110 }, 'for_percentage_1'],
        [{ for_percentage_1: 60, for_percentage_2: 50 }, 'for_percentage_1'],
        [{ field_of_research_1: '123' }, 'field_of_research_1'],
        [{ project_name: 'bad name!' }, 'project_name'],
        [{ project_name: 'x'.repeat(65) }, 'project_name'],
        [{ bundle: 'nope' }, 'bundle'],
        [{ supported_organisations: ['nope'] }, 'supported_organisations'],
        [{ supported_organisations: [String(cat.organisation.id), 'UoT'] }, 'supported_organisations'],
        [{ ncris_facilities: ['nope'] }, 'ncris_facilities'],
        [{ ardc_support: ['nope'] }, 'ardc_support'],
        [{ associated_site: 'nowhere' }, 'associated_site'],
        [{ start_date: '2024-02-30' }, 'start_date'],
        [{ start_date: '0000-01-01' }, 'start_date'],
        [{ use_case: 'nul \u0000 byte' }, 'use_case'],
        [{ usage_types: ['ok', 'nul \u0000'] }, 'usage_types'],
      ];
      for (const [overrides, field] of cases) {
        const body: Record<string, unknown> = { project_name: 'valid', project_description: 'D', use_case: 'U', ...overrides };
        const res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form(body));
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
        expect(res.body.error).toEqual(expect.any(String));
      }
    });

    it('refuses a disabled organisation and an ambiguous one', async () => {
      await t.http.post(`${ROOT}/organisations/${cat.organisation.id}/decline/`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      let res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).send({ project_description: 'D', use_case: 'U', supported_organisations: ['UoT'] });
      expect(res.status).toBe(400);
      expect(res.body.fields.supported_organisations[0]).toMatch(/disabled/);
      await t.http.post(`${ROOT}/organisations/`).set('X-Auth-Token', ADMIN_TOKEN).send({ full_name: 'Other', short_name: 'RU', url: 'https://o.example.org' }).expect(201);
      res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).send({ project_description: 'D', use_case: 'U', supported_organisations: ['ru'] });
      expect(res.status).toBe(400);
      expect(res.body.fields.supported_organisations[0]).toMatch(/ambiguous/);
    });

    it('refuses a project name used by another current allocation, case-insensitively, but not by a deleted one', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { project_name: 'Taken' });
      let res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ project_name: 'taken', project_description: 'D', use_case: 'U' }));
      expect(res.status).toBe(400);
      expect(res.body.fields).toHaveProperty('project_name');
      await action(t, ADMIN_TOKEN, a.id, 'delete').expect(200);
      res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ project_name: 'taken', project_description: 'D', use_case: 'U' }));
      expect(res.status).toBe(201);
    });

    it('answers 409 for a project_id held by another current allocation, and allows it after delete', async () => {
      const a = await createAllocation(t, service, { project_name: 'one', project_id: 'p1' });
      const res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', service).type('form').send(form({ project_name: 'two', project_description: 'D', use_case: 'U', project_id: 'p1' }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: expect.stringContaining('p1') });
      await action(t, service, a.id, 'delete').expect(200);
      await createAllocation(t, service, { project_name: 'two', project_id: 'p1' });
    });

    it('ignores privileged fields from a user and refuses associated_site, allocation_home and special_approval with 403', async () => {
      const res = await t.http
        .post(`${ROOT}/allocations/`)
        .set('X-Auth-Token', alice)
        .type('form')
        .send(
          form({
            project_name: 'u1',
            project_description: 'D',
            use_case: 'U',
            national: true,
            managed: false,
            notifications: false,
            contact_email: 'x@y',
            project_id: 'p-stolen',
            provisioned: true,
            start_date: '2020-01-01',
            end_date: '2020-02-01',
            notes: 'n',
            associated_site: '',
            special_approval: '',
            id: 77,
            status: 'A',
          }),
        );
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ national: false, managed: true, notifications: true, contact_email: 'alice@example.org', project_id: null, provisioned: false, start_date: null, end_date: null, status: 'E', associated_site: null });
      expect(res.body.id).not.toBe(77);
      for (const [key, value] of [
        ['associated_site', 'uom'],
        ['allocation_home', 'national'],
        ['allocation_home', 'uom'],
        ['special_approval', 'please'],
      ]) {
        const r = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', alice).type('form').send(form({ project_description: 'D', use_case: 'U', [key]: value }));
        expect([key, value, r.status]).toEqual([key, value, 403]);
        expect(r.body).toEqual({ error: expect.any(String) });
      }
      // An unknown allocation home is a 400 first, even for a user.
      const unknown = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', alice).type('form').send(form({ project_description: 'D', use_case: 'U', allocation_home: 'nowhere' }));
      expect(unknown.status).toBe(400);
    });

    it('lets admin and service set allocation_home, alone', async () => {
      let res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', service).send({ project_description: 'D', use_case: 'U', allocation_home: 'uom' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ associated_site: 'uom', national: false, allocation_home: 'uom', allocation_home_display: 'University of Melbourne' });
      res = await t.http.patch(`${ROOT}/allocations/${res.body.id}/`).set('X-Auth-Token', service).send({ allocation_home: 'national' });
      expect(res.body).toMatchObject({ associated_site: 'uom', national: true, allocation_home: 'national' });
      res = await t.http.patch(`${ROOT}/allocations/${res.body.id}/`).set('X-Auth-Token', service).send({ allocation_home: 'unassigned' });
      expect(res.body).toMatchObject({ associated_site: null, national: false, allocation_home: 'unassigned' });
      const both = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).send({ project_description: 'D', use_case: 'U', allocation_home: 'uom', national: false });
      expect(both.status).toBe(400);
      expect(both.body.fields).toHaveProperty('allocation_home');
      const unknown = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', ADMIN_TOKEN).send({ project_description: 'D', use_case: 'U', allocation_home: 'nowhere' });
      expect(unknown.status).toBe(400);
    });

    it('refuses a reader with 403 and no token with 401', async () => {
      await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', reader).type('form').send(form({ project_description: 'D', use_case: 'U' })).expect(403);
      await t.http.post(`${ROOT}/allocations/`).type('form').send(form({ project_description: 'D', use_case: 'U' })).expect(401);
    });
  });

  describe('PATCH /allocations/:id/', () => {
    it('changes only the keys sent, bumps modified_time, and replaces lists', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { usage_types: ['a', 'b'], supported_organisations: [cat.organisation.id] });
      const res = await patch(a.id, { usage_patterns: 'steady', usage_types: ['c'], notes: 'private', status_explanation: 'why' }).expect(200);
      expect(res.body).toMatchObject({ usage_patterns: 'steady', usage_types: ['c'], project_name: 'proj-a', supported_organisations: [cat.organisation.id], notes: 'private', status_explanation: 'why' });
      expect(res.body.modified_time > a.modified_time).toBe(true);
      const cleared = await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send({ usage_types: [], supported_organisations: [] }).expect(200);
      expect(cleared.body).toMatchObject({ usage_types: [], supported_organisations: [] });
    });

    it('accepts the object sent back as received (server-managed fields ignored)', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom', supported_organisations: [cat.rorOrganisation.id] });
      const body: Record<string, unknown> = { ...a, usage_patterns: 'changed' };
      delete body.allocation_home; // with national/associated_site it would be refused as ambiguous
      const res = await t.http.patch(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN).send(body);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: a.id, status: 'E', usage_patterns: 'changed', supported_organisations: ['https://ror.org/00abc1234'] });
    });

    it('lets the owner update while E or X, and refuses it in other states with 409', async () => {
      const a = await createAllocation(t, alice, { associated_site: undefined });
      await patch(a.id, { project_description: 'by owner' }, alice).expect(200);
      await patch(a.id, { associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      const res = await patch(a.id, { project_description: 'after approval' }, alice);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/status is A/);
      await patch(a.id, { project_description: 'admin may' }).expect(200);
      await action(t, alice, a.id, 'amend').expect(200);
      await patch(a.id, { project_description: 'while X' }, alice).expect(200);
    });

    it('answers 404 to a user who does not own it, 403 to a reader, 409 on a history record', async () => {
      const a = await createAllocation(t, bob, { project_name: 'bobs' });
      await patch(a.id, { project_description: 'x' }, alice).expect(404);
      await patch(a.id, { project_description: 'x' }, reader).expect(403);
      await patch(999999, { project_description: 'x' }, reader).expect(404);
      await patch(a.id, { associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      const history = (await get(`/allocations/?parent_request=${a.id}`)).body.results[0];
      for (const token of [ADMIN_TOKEN, service]) {
        const res = await patch(history.id, { project_description: 'x' }, token);
        expect(res.status).toBe(409);
        expect(res.body.error).toMatch(/history/);
      }
    });

    it('answers 409 when the new project_id belongs to another current allocation', async () => {
      await createAllocation(t, ADMIN_TOKEN, { project_name: 'one', project_id: 'p1' });
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'two' });
      await patch(b.id, { project_id: 'p1' }).expect(409);
      await patch(b.id, { project_id: 'p2' }).expect(200);
    });

    it('refuses a user setting associated_site with 403 and ignores its privileged fields', async () => {
      const a = await createAllocation(t, alice);
      await patch(a.id, { associated_site: 'uom' }, alice).expect(403);
      const res = await patch(a.id, { project_id: 'p-x', national: true, notes: 'n' }, alice).expect(200);
      expect(res.body).toMatchObject({ project_id: null, national: false });
      expect(res.body).not.toHaveProperty('notes');
    });
  });

  describe('state machine (allocations.md 5)', () => {
    const history = async (id: number) => (await get(`/allocations/?parent_request=${id}`)).body.results;

    it('approve: E → A, sets approver, dates and provisioned, and snapshots the record with its attachments', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom', estimated_project_duration: 6, provisioned: true });
      await t.http.post(`${ROOT}/quotas/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 8 })).expect(201);
      await t.http
        .post(`${ROOT}/chiefinvestigators/`)
        .set('X-Auth-Token', ADMIN_TOKEN)
        .type('form')
        .send(form({ allocation: a.id, title: 'Dr', given_name: 'C', surname: 'I', email: 'ci@example.org', primary_organisation: cat.organisation.id }))
        .expect(201);
      await t.http.post(`${ROOT}/grants/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: a.id, grant_type: 'arc', grant_subtype: 'arc-dp', first_year_funded: 2020, last_year_funded: 2021, total_funding: 1000 })).expect(201);
      await t.http.post(`${ROOT}/publications/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: a.id, output_type: 'AJ', doi: '10.1/x' })).expect(201);

      const res = await action(t, service, a.id, 'approve').expect(200);
      const today = new Date().toISOString().slice(0, 10);
      const end = new Date(`${today}T00:00:00Z`);
      end.setUTCMonth(end.getUTCMonth() + 6);
      expect(res.body).toMatchObject({ id: a.id, status: 'A', status_display: 'Approved', approver_email: 'svc@example.org', provisioned: false, start_date: today, parent_request: null, chief_investigator: 'ci@example.org' });
      expect(res.body.end_date).toBe(end.toISOString().slice(0, 10));
      expect(res.body.modified_time > a.modified_time).toBe(true);

      const [snap] = await history(a.id);
      expect(snap).toMatchObject({ parent_request: a.id, status: 'E', modified_time: a.modified_time, provisioned: true, start_date: null, chief_investigator: 'ci@example.org' });
      expect(snap.id).not.toBe(a.id);
      expect(snap.quotas).toEqual([{ zone: 'melbourne', resource: 'compute.cores', quota: 8 }]);
      for (const kind of ['quotas', 'chiefinvestigators', 'grants', 'publications']) {
        const copies = await get(`/${kind}/?allocation=${snap.id}${kind === 'quotas' ? `&group__allocation=${snap.id}` : ''}`).expect(200);
        expect([kind, copies.body.count]).toEqual([kind, 1]);
      }
    });

    it('approve keeps given dates and uses the admin token name when it has no user_id', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom', start_date: '2024-01-01', end_date: '2024-02-01' });
      const res = await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      expect(res.body).toMatchObject({ start_date: '2024-01-01', end_date: '2024-02-01', approver_email: 'admin' });
    });

    it('approve without associated_site is a 400 saying so', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN);
      const res = await action(t, ADMIN_TOKEN, a.id, 'approve');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/associated_site/);
      expect(await history(a.id)).toHaveLength(0);
    });

    it('approve, decline and delete are refused to users (403 owner, 404 otherwise) and readers (403)', async () => {
      const a = await createAllocation(t, alice);
      await patch(a.id, { associated_site: 'uom' }).expect(200);
      for (const name of ['approve', 'decline', 'delete']) {
        await action(t, alice, a.id, name).expect(403);
        await action(t, bob, a.id, name).expect(404);
        await action(t, reader, a.id, name).expect(403);
      }
      await action(t, reader, a.id, 'amend').expect(403);
      await action(t, bob, a.id, 'amend').expect(404);
      expect((await get(`/allocations/${a.id}/`)).body.status).toBe('E');
      await action(t, ADMIN_TOKEN, 999999, 'approve').expect(404);
    });

    it('decline: E → R and X → J, storing status_explanation from a form or JSON body', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom' });
      let res = await t.http.post(`${ROOT}/allocations/${a.id}/decline/`).set('X-Auth-Token', service).type('form').send(form({ status_explanation: 'not enough detail' })).expect(200);
      expect(res.body).toMatchObject({ status: 'R', status_display: 'Declined', status_explanation: 'not enough detail' });
      res = await action(t, service, a.id, 'amend').expect(200);
      expect(res.body.status).toBe('X');
      res = await t.http.post(`${ROOT}/allocations/${a.id}/decline/`).set('X-Auth-Token', ADMIN_TOKEN).send({ status_explanation: 'still no' }).expect(200);
      expect(res.body).toMatchObject({ status: 'J', status_display: 'Update declined', status_explanation: 'still no' });
      res = await action(t, ADMIN_TOKEN, a.id, 'amend').expect(200);
      res = await action(t, ADMIN_TOKEN, a.id, 'decline').expect(200);
      expect(res.body).toMatchObject({ status: 'J', status_explanation: 'still no' });
      expect((await history(a.id)).map((h: any) => h.status).sort()).toEqual(['E', 'J', 'R', 'X', 'X'].sort());
    });

    it('amend: A, R, J → X by the owner, resetting provisioned', async () => {
      const a = await createAllocation(t, alice);
      await patch(a.id, { associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      await patch(a.id, { provisioned: true }).expect(200);
      const res = await action(t, alice, a.id, 'amend').expect(200);
      expect(res.body).toMatchObject({ status: 'X', status_display: 'Update requested', provisioned: false });
      expect(res.body).not.toHaveProperty('notes');
    });

    it('answers 409 naming the status for every illegal transition', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom' });
      const expectConflict = async (name: string, status: string) => {
        const res = await action(t, ADMIN_TOKEN, a.id, name);
        expect([name, status, res.status]).toEqual([name, status, 409]);
        expect(res.body.error).toContain(`status is ${status}`);
      };
      await expectConflict('amend', 'E');
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      await expectConflict('approve', 'A');
      await expectConflict('decline', 'A');
      await action(t, ADMIN_TOKEN, a.id, 'amend').expect(200);
      await expectConflict('amend', 'X');
      await action(t, ADMIN_TOKEN, a.id, 'decline').expect(200);
      await expectConflict('approve', 'J');
      await expectConflict('decline', 'J');
      await action(t, ADMIN_TOKEN, a.id, 'delete').expect(200);
      for (const name of ['approve', 'decline', 'amend']) await expectConflict(name, 'D');
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'b' });
      await action(t, ADMIN_TOKEN, b.id, 'decline').expect(200);
      const res = await action(t, ADMIN_TOKEN, b.id, 'approve');
      expect(res.status).toBe(409);
      expect(res.body.error).toContain('status is R');
    });

    it('follows every legal transition of the table, one snapshot each, and refuses the rest with 409', async () => {
      // Paths through the state table, each step [action, expected status]; D is reached from every state.
      const paths: [string, string][][] = [
        [['approve', 'A'], ['amend', 'X'], ['approve', 'A'], ['delete', 'D']],
        [['decline', 'R'], ['amend', 'X'], ['decline', 'J'], ['amend', 'X'], ['delete', 'D']],
        [['decline', 'R'], ['delete', 'D']],
        [['approve', 'A'], ['amend', 'X'], ['decline', 'J'], ['delete', 'D']],
        [['delete', 'D']],
      ];
      const legal: Record<string, string[]> = { approve: ['E', 'X'], decline: ['E', 'X'], amend: ['A', 'R', 'J'], delete: ['E', 'A', 'R', 'X', 'J', 'D'] };
      for (const [n, path] of paths.entries()) {
        const a = await createAllocation(t, ADMIN_TOKEN, { project_name: `path-${n}`, associated_site: 'uom' });
        let status = 'E';
        let snapshots = 0;
        for (const [name, next] of path) {
          // Every action that is illegal from here is refused and changes nothing.
          for (const other of Object.keys(legal).filter((o) => !legal[o].includes(status))) {
            const refused = await action(t, ADMIN_TOKEN, a.id, other);
            expect([status, other, refused.status]).toEqual([status, other, 409]);
          }
          const res = await action(t, service, a.id, name);
          expect([status, name, res.status, res.body.status]).toEqual([status, name, 200, next]);
          status = next;
          snapshots += 1;
          expect((await get(`/allocations/?parent_request=${a.id}`)).body.count).toBe(snapshots);
        }
        for (const other of ['approve', 'decline', 'amend']) await action(t, ADMIN_TOKEN, a.id, other).expect(409);
      }
    });

    it('delete: any state → D, snapshotting once, idempotent on D', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom', project_id: 'p1' });
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      let res = await action(t, service, a.id, 'delete').expect(200);
      expect(res.body).toMatchObject({ status: 'D', status_display: 'Deleted', quotas: [] });
      expect(await history(a.id)).toHaveLength(2);
      res = await action(t, ADMIN_TOKEN, a.id, 'delete').expect(200);
      expect(res.body.status).toBe('D');
      expect(res.body.modified_time).toBeDefined();
      expect(await history(a.id)).toHaveLength(2);
      // The deleted record is still the one current record of its project.
      const current = await get('/allocations/?project_id=p1&parent_request__isnull=True').expect(200);
      expect(current.body.results.map((r: any) => [r.id, r.status])).toEqual([[a.id, 'D']]);
    });

    it('freezes history records against every action for every role', async () => {
      const a = await createAllocation(t, alice);
      await patch(a.id, { associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      const [snap] = await history(a.id);
      for (const name of ['approve', 'decline', 'amend', 'delete']) {
        const res = await action(t, ADMIN_TOKEN, snap.id, name);
        expect([name, res.status]).toEqual([name, 409]);
      }
      await action(t, alice, snap.id, 'amend').expect(409);
      await action(t, bob, snap.id, 'amend').expect(404);
      await get(`/allocations/${snap.id}/`, alice).expect(200);
      await get(`/allocations/${snap.id}/`, bob).expect(404);
    });

    it('keeps the approval in force first in a status=A list while an amendment is pending (get_last_approved)', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom', project_id: 'p1' });
      await t.http.post(`${ROOT}/quotas/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: a.id, resource: cat.cores, zone: 'melbourne', quota: 4 })).expect(201);
      const approved = await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'amend').expect(200);
      const quota = (await get(`/quotas/?group__allocation=${a.id}`)).body.results[0];
      await t.http.delete(`${ROOT}/quotas/${quota.id}/`).set('X-Auth-Token', ADMIN_TOKEN).expect(204);
      const res = await get('/allocations/?status=A&project_id=p1').expect(200);
      expect(res.body.results[0]).toMatchObject({ parent_request: a.id, status: 'A', modified_time: approved.body.modified_time });
      expect(res.body.results[0].quotas).toEqual([{ zone: 'melbourne', resource: 'compute.cores', quota: 4 }]);
      const current = await get('/allocations/?project_id=p1&parent_request__isnull=True').expect(200);
      expect(current.body.results.map((r: any) => [r.id, r.status])).toEqual([[a.id, 'X']]);
      const all = await get('/allocations/?project_id=p1').expect(200);
      expect(all.body.results.map((r: any) => r.status)).toEqual(['X', 'A', 'E']);
    });
  });

  describe('GET /allocations/:id/approver_info/', () => {
    const setTimes = (id: number, daysAgo: number) => sql(`UPDATE "allocation" SET "modified_time" = now() - make_interval(days => $2) WHERE "id" = $1`, [id, daysAgo]);

    it('answers urgency from the age of a pending request, and concerned sites', async () => {
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom' });
      const info = async () => (await get(`/allocations/${a.id}/approver_info/`, reader).expect(200)).body;
      expect(await info()).toEqual({ approval_urgency: 'New', expiry_state: 'None', concerned_sites: ['uom'] });
      for (const [days, label] of [
        [8, 'Attention'],
        [15, 'Warning'],
        [22, 'Overdue'],
      ] as const) {
        await setTimes(a.id, days);
        expect((await info()).approval_urgency).toBe(label);
      }
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      expect((await info()).approval_urgency).toBe('N/A');
      const b = await createAllocation(t, ADMIN_TOKEN, { project_name: 'b' });
      expect((await get(`/allocations/${b.id}/approver_info/`, service).expect(200)).body.concerned_sites).toEqual([]);
    });

    it('answers the expiry state from the first X after the last approval', async () => {
      const past = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
      const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom', start_date: past(400), end_date: past(2) });
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      const expiry = async () => (await get(`/allocations/${a.id}/approver_info/`).expect(200)).body.expiry_state;
      expect(await expiry()).toBe('Unknown');
      await action(t, ADMIN_TOKEN, a.id, 'amend').expect(200);
      expect(await expiry()).toBe('Expired');
      await patch(a.id, { end_date: past(20) }).expect(200);
      expect(await expiry()).toBe('Stopped');
      await patch(a.id, { end_date: past(40) }).expect(200);
      expect(await expiry()).toBe('Archived');
      await sql(`UPDATE "allocation" SET "modified_time" = now() - interval '200 days' WHERE "parent_request" = $1`, [a.id]);
      await setTimes(a.id, 151);
      expect(await expiry()).toBe('Danger');
      await patch(a.id, { end_date: past(-30) }).expect(200);
      expect(await expiry()).toBe('None');
    });

    it('refuses users (403 owner, 404 otherwise) and answers 400 for a history record', async () => {
      const a = await createAllocation(t, alice);
      await get(`/allocations/${a.id}/approver_info/`, alice).expect(403);
      await get(`/allocations/${a.id}/approver_info/`, bob).expect(404);
      await patch(a.id, { associated_site: 'uom' }).expect(200);
      await action(t, ADMIN_TOKEN, a.id, 'approve').expect(200);
      const [snap] = (await get(`/allocations/?parent_request=${a.id}`)).body.results;
      const res = await get(`/allocations/${snap.id}/approver_info/`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/history/);
    });
  });
});

describe('Nectar allocations with PUBLIC_URL set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ PUBLIC_URL: 'https://ledger.example.org/' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t.close();
  });

  it('builds next links from PUBLIC_URL', async () => {
    await t.reset();
    for (const name of ['p1', 'p2']) await createAllocation(t, ADMIN_TOKEN, { project_name: name });
    const res = await t.http.get(`${ROOT}/allocations/?limit=1&status=E`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
    expect(res.body.next).toBe('https://ledger.example.org/allocations/v1/allocations/?status=E&limit=1&offset=1');
  });
});

describe('Nectar allocations behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t.close();
  });

  it('builds next links from X-Forwarded-Proto and X-Forwarded-Host', async () => {
    await t.reset();
    for (const name of ['p1', 'p2']) await createAllocation(t, ADMIN_TOKEN, { project_name: name });
    const res = await t.http
      .get(`${ROOT}/allocations/?limit=1`)
      .set('X-Auth-Token', ADMIN_TOKEN)
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'cloud.example.org')
      .expect(200);
    expect(res.body.next).toBe('https://cloud.example.org/allocations/v1/allocations/?limit=1&offset=1');
  });
});
