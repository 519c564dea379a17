import { form, ROOT } from '../support/allocation-fixtures';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

describe('allocation catalogue (allocations.md 8)', () => {
  let service: string;
  let reader: string;
  let user: string;

  const t = useTestApp();

  beforeEach(async () => {
    service = await t.token('service', { name: 'svc' });
    reader = await t.token('reader');
    user = await t.token('user', { userId: 'alice@example.org', projectIds: ['p1'] });
  });

  const post = (path: string, body: Record<string, unknown>, token = ADMIN_TOKEN) => t.http.post(`${ROOT}/${path}/`).set('X-Auth-Token', token).type('form').send(form(body));
  const patch = (path: string, body: Record<string, unknown>, token = ADMIN_TOKEN) => t.http.patch(`${ROOT}/${path}/`).set('X-Auth-Token', token).type('form').send(form(body));
  const get = (path: string, token = ADMIN_TOKEN) => t.http.get(`${ROOT}/${path}`).set('X-Auth-Token', token);

  /** The common rules: every role reads, only admin writes, DELETE and PUT are 405, unknown keys 404. */
  async function commonRules(collection: string, key: string | number, valid: Record<string, unknown>) {
    for (const token of [service, reader, user]) {
      await get(`${collection}/`, token).expect(200);
      await get(`${collection}/${key}/`, token).expect(200);
      await post(collection, valid, token).expect(403);
      await patch(`${collection}/${key}`, {}, token).expect(403);
    }
    await t.http.get(`${ROOT}/${collection}/`).expect(401);
    for (const method of ['delete', 'put'] as const) {
      const res = await t.http[method](`${ROOT}/${collection}/${key}/`).set('X-Auth-Token', ADMIN_TOKEN);
      expect([collection, method, res.status]).toEqual([collection, method, 405]);
      expect(res.headers.allow).toBe('GET, HEAD, PATCH');
    }
    const missing = await get(`${collection}/no-such-key/`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: expect.any(String) });
    await get(`${collection}/987654/`).expect(404);
    await get(`${collection}/a%00b/`).expect(400); // NUL in a path key: refused before any lookup (hardening.e2e-spec.ts)
  }

  describe('zones/', () => {
    it('creates, lists by display name, gets by name, patches and keeps the name', async () => {
      const created = await post('zones', { name: 'melbourne-qh2', display_name: 'Melbourne', enabled: true });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: 'melbourne-qh2', name: 'melbourne-qh2', display_name: 'Melbourne', enabled: true });
      await post('zones', { name: 'auckland', display_name: 'Auckland', enabled: false }).expect(201);
      const list = await get('zones/').expect(200);
      expect(list.body).toMatchObject({ count: 2, next: null, previous: null });
      expect(list.body.results.map((z: any) => z.id)).toEqual(['auckland', 'melbourne-qh2']);
      expect((await get('zones/?enabled=True')).body.results.map((z: any) => z.id)).toEqual(['melbourne-qh2']);
      await get('zones/?enabled=perhaps').expect(400);
      const patched = await patch('zones/melbourne-qh2', { display_name: 'Melbourne QH2', enabled: false }).expect(200);
      expect(patched.body).toEqual({ id: 'melbourne-qh2', name: 'melbourne-qh2', display_name: 'Melbourne QH2', enabled: false });
      await patch('zones/melbourne-qh2', { name: 'melbourne-qh2' }).expect(200);
      const renamed = await patch('zones/melbourne-qh2', { name: 'other' });
      expect(renamed.status).toBe(400);
      expect(renamed.body.fields).toHaveProperty('name');
      await commonRules('zones', 'melbourne-qh2', { name: 'z', display_name: 'Z' });
    });

    it('refuses invalid and duplicate zones with 400', async () => {
      await post('zones', { name: 'melbourne', display_name: 'M' }).expect(201);
      for (const [body, field] of [
        [{ name: 'Melbourne', display_name: 'dup' }, 'name'],
        [{ name: 'bad name', display_name: 'x' }, 'name'],
        [{ name: 'x'.repeat(33), display_name: 'x' }, 'name'],
        [{ name: 'ok' }, 'display_name'],
        [{ name: 'ok', display_name: 'x'.repeat(65) }, 'display_name'],
        [{ name: 'ok', display_name: 'x', enabled: 'sometimes' }, 'enabled'],
      ] as const) {
        const res = await post('zones', body);
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
    });

    it('answers compute_homes from the sites that list compute zones', async () => {
      await post('sites', { name: 'uom', display_name: 'UoM', compute_zones: ['melbourne-qh2', 'melbourne-np'] }).expect(201);
      await post('sites', { name: 'empty', display_name: 'Empty' }).expect(201);
      await post('sites', { name: 'monash', display_name: 'Monash', compute_zones: 'monash-01' }).expect(201);
      const res = await get('zones/compute_homes/', user).expect(200);
      expect(res.body).toEqual({ monash: ['monash-01'], uom: ['melbourne-qh2', 'melbourne-np'] });
      await t.http.post(`${ROOT}/zones/compute_homes/`).set('X-Auth-Token', ADMIN_TOKEN).expect(405);
    });
  });

  describe('sites/', () => {
    it('creates, gets by id or name, patches, and refuses duplicates', async () => {
      const created = await post('sites', { name: 'uom', display_name: 'University of Melbourne' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), name: 'uom', display_name: 'University of Melbourne', enabled: true, compute_zones: [] });
      expect((await get(`sites/${created.body.id}/`)).body.name).toBe('uom');
      expect((await get('sites/uom/')).body.id).toBe(created.body.id);
      const patched = await patch('sites/uom', { display_name: 'UoM', compute_zones: ['a', 'b'] }).expect(200);
      expect(patched.body).toMatchObject({ display_name: 'UoM', compute_zones: ['a', 'b'] });
      const cleared = await t.http.patch(`${ROOT}/sites/uom/`).set('X-Auth-Token', ADMIN_TOKEN).send({ compute_zones: [] }).expect(200);
      expect(cleared.body.compute_zones).toEqual([]);
      await post('sites', { name: 'UOM', display_name: 'dup' }).expect(400);
      await post('sites', { name: 'other', display_name: 'O' }).expect(201);
      await patch('sites/other', { name: 'uom' }).expect(400);
      expect((await get('sites/?name=other')).body.count).toBe(1);
      await commonRules('sites', 'uom', { name: 's', display_name: 'S' });
    });
  });

  describe('service-types/ and resources/', () => {
    beforeEach(async () => {
      await post('zones', { name: 'melbourne', display_name: 'Melbourne' }).expect(201);
      await post('zones', { name: 'monash', display_name: 'Monash' }).expect(201);
    });

    it('creates a service type as the client sends it, with id and resource_set, ordered by order then name', async () => {
      const created = await post('service-types', { catalog_name: 'compute', name: 'Compute', description: 'VMs', zones: ['melbourne', 'monash'], notes: 'n', order: 5, experimental: false, location_specific: true });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: 'compute',
        catalog_name: 'compute',
        name: 'Compute',
        description: 'VMs',
        notes: 'n',
        order: 5,
        experimental: false,
        location_specific: true,
        zones: ['melbourne', 'monash'],
        resource_set: [],
      });
      await post('service-types', { catalog_name: 'volume', name: 'Volume', order: 1 }).expect(201);
      await post('service-types', { catalog_name: 'object', name: 'Object' }).expect(201);
      const cores = (await post('resources', { name: 'Cores', service_type: 'compute', quota_name: 'cores', unit: 'cores', requestable: true, resource_type: 'integer', help_text: '' })).body;
      const list = await get('service-types/').expect(200);
      expect(list.body.results.map((s: any) => s.id)).toEqual(['volume', 'compute', 'object']);
      expect(list.body.results[1].resource_set).toEqual([cores]);
      expect((await get('service-types/compute/', user)).body.resource_set).toEqual([cores]);
      const patched = await patch('service-types/compute', { name: 'Compute (Nova)', zones: 'melbourne', experimental: true }).expect(200);
      expect(patched.body).toMatchObject({ name: 'Compute (Nova)', zones: ['melbourne'], experimental: true, resource_set: [cores] });
      expect((await get('service-types/?experimental=True')).body.results.map((s: any) => s.id)).toEqual(['compute']);
      await commonRules('service-types', 'compute', { catalog_name: 'c', name: 'C' });
    });

    it('refuses invalid service types with 400', async () => {
      await post('service-types', { catalog_name: 'compute', name: 'Compute' }).expect(201);
      for (const [body, field] of [
        [{ catalog_name: 'compute', name: 'dup' }, 'catalog_name'],
        [{ catalog_name: 'a.b', name: 'dot' }, 'catalog_name'],
        [{ catalog_name: 'x'.repeat(33), name: 'long' }, 'catalog_name'],
        [{ catalog_name: 'ok' }, 'name'],
        [{ catalog_name: 'ok', name: 'ok', zones: ['nowhere'] }, 'zones'],
        [{ catalog_name: 'ok', name: 'ok', order: -1 }, 'order'],
      ] as const) {
        const res = await post('service-types', body);
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
      await patch('service-types/compute', { catalog_name: 'other' }).expect(400);
    });

    it('creates, filters, gets and patches resources, refusing invalid ones', async () => {
      await post('service-types', { catalog_name: 'compute', name: 'Compute' }).expect(201);
      await post('service-types', { catalog_name: 'volume', name: 'Volume' }).expect(201);
      const cores = await post('resources', { name: 'Cores', service_type: 'compute', quota_name: 'cores', unit: 'cores' });
      expect(cores.status).toBe(201);
      expect(cores.body).toEqual({ id: expect.any(Number), name: 'Cores', service_type: 'compute', quota_name: 'cores', unit: 'cores', requestable: true, resource_type: 'integer', help_text: null, default: null });
      const gb = (await post('resources', { name: 'GB', service_type: 'volume', quota_name: 'gigabytes', unit: 'GB', resource_type: 'integer', default: 10 })).body;
      expect((await get('resources/?service_type=volume')).body.results).toEqual([gb]);
      expect((await get('resources/?quota_name=cores')).body.results.map((r: any) => r.id)).toEqual([cores.body.id]);
      const patched = await patch(`resources/${cores.body.id}`, { help_text: 'CPU cores', requestable: false }).expect(200);
      expect(patched.body).toMatchObject({ help_text: 'CPU cores', requestable: false });
      await get('resources/cores/').expect(404);
      for (const [body, field] of [
        [{ name: 'x', service_type: 'nowhere', quota_name: 'q', unit: 'u' }, 'service_type'],
        [{ name: 'x', service_type: 'compute', quota_name: 'cores', unit: 'u' }, 'quota_name'],
        [{ name: 'x', service_type: 'compute', quota_name: 'a.b', unit: 'u' }, 'quota_name'],
        [{ name: 'x', service_type: 'compute', quota_name: 'q', unit: 'u', resource_type: 'float' }, 'resource_type'],
        [{ name: 'x', service_type: 'compute', quota_name: 'q', unit: 'u', default: 'many' }, 'default'],
        [{ service_type: 'compute', quota_name: 'q', unit: 'u' }, 'name'],
      ] as const) {
        const res = await post('resources', body);
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
      await patch(`resources/${gb.id}`, { service_type: 'compute', quota_name: 'cores' }).expect(400);
      await commonRules('resources', cores.body.id, { name: 'r', service_type: 'compute', quota_name: 'r', unit: 'u' });
    });
  });

  describe('bundles/', () => {
    it('creates with an empty quotas list, gets by id or name, patches, and refuses invalid ones', async () => {
      await post('zones', { name: 'melbourne', display_name: 'Melbourne' }).expect(201);
      const created = await post('bundles', { name: 'small', description: 'Small', zone: 'melbourne', order: 10, su_per_year: 1200 });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), name: 'small', description: 'Small', zone: 'melbourne', order: 10, su_per_year: 1200, quotas: [] });
      expect((await get('bundles/small/')).body.id).toBe(created.body.id);
      expect((await get(`bundles/${created.body.id}/`)).body.quotas).toEqual([]);
      expect((await patch(`bundles/${created.body.id}`, { description: 'Smaller' }).expect(200)).body.description).toBe('Smaller');
      for (const [body, field] of [
        [{ name: 'small', description: 'd', zone: 'melbourne', order: 1, su_per_year: 1 }, 'name'],
        [{ name: 'b', description: 'd', zone: 'nowhere', order: 1, su_per_year: 1 }, 'zone'],
        [{ name: 'b', description: 'd', zone: 'melbourne', su_per_year: 1 }, 'order'],
        [{ name: 'b', description: 'd', zone: 'melbourne', order: 1, su_per_year: 'x' }, 'su_per_year'],
      ] as const) {
        const res = await post('bundles', body);
        expect([field, res.status]).toEqual([field, 400]);
        expect(res.body.fields).toHaveProperty(field);
      }
      await commonRules('bundles', 'small', { name: 'b', description: 'd', zone: 'melbourne', order: 1, su_per_year: 1 });
    });
  });

  describe('ncris-facilities/ and ardc-projects/', () => {
    it('serves facilities by id or short name', async () => {
      const created = await post('ncris-facilities', { name: 'Australian Microscopy Facility', short_name: 'AMF' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), name: 'Australian Microscopy Facility', short_name: 'AMF' });
      expect((await get('ncris-facilities/AMF/')).body.id).toBe(created.body.id);
      expect((await patch(`ncris-facilities/${created.body.id}`, { name: 'AMF (renamed)' }).expect(200)).body.name).toBe('AMF (renamed)');
      await post('ncris-facilities', { name: 'Other', short_name: 'amf' }).expect(400);
      await post('ncris-facilities', { name: 'amf (RENAMED)', short_name: 'X' }).expect(400);
      await post('ncris-facilities', { name: 'No short name' }).expect(400);
      await commonRules('ncris-facilities', 'AMF', { name: 'f', short_name: 'F' });
    });

    it('serves ARDC projects with defaults, filtered by enabled and ordered by rank then name', async () => {
      const created = await post('ardc-projects', { name: 'Nectar', short_name: 'NECTAR' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), name: 'Nectar', short_name: 'NECTAR', project: true, project_id: '', enabled: true, rank: 100, explain: false });
      await post('ardc-projects', { name: 'Alpha', short_name: 'A', rank: 5, enabled: false, project: true, project_id: 'p1', explain: true }).expect(201);
      await post('ardc-projects', { name: 'Beta', short_name: 'B', rank: 5 }).expect(201);
      expect((await get('ardc-projects/')).body.results.map((p: any) => p.short_name)).toEqual(['A', 'B', 'NECTAR']);
      expect((await get('ardc-projects/?enabled=True')).body.results.map((p: any) => p.short_name)).toEqual(['B', 'NECTAR']);
      expect((await patch('ardc-projects/NECTAR', { rank: 1 }).expect(200)).body.rank).toBe(1);
      await post('ardc-projects', { name: 'x', short_name: 'y', project_id: 'x'.repeat(21) }).expect(400);
      await post('ardc-projects', { name: 'x', short_name: 'y', rank: 'high' }).expect(400);
      await commonRules('ardc-projects', 'NECTAR', { name: 'p', short_name: 'P' });
    });
  });

  describe('approvers/', () => {
    it('lets admin write and admin, service and reader read; users get 403', async () => {
      const site = (await post('sites', { name: 'uom', display_name: 'UoM' })).body;
      const created = await post('approvers', { username: 'approver@example.org', display_name: 'Approver', sites: [site.id] });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), username: 'approver@example.org', display_name: 'Approver', sites: [site.id] });
      for (const token of [ADMIN_TOKEN, service, reader]) {
        expect((await get('approvers/', token).expect(200)).body.count).toBe(1);
        await get(`approvers/${created.body.id}/`, token).expect(200);
      }
      await get('approvers/', user).expect(403);
      await get(`approvers/${created.body.id}/`, user).expect(403);
      await post('approvers', { username: 'b@example.org', display_name: 'B' }, service).expect(403);
      await patch(`approvers/${created.body.id}`, { display_name: 'x' }, service).expect(403);
      expect((await patch(`approvers/${created.body.id}`, { display_name: 'Renamed' }).expect(200)).body.display_name).toBe('Renamed');
      await post('approvers', { username: 'APPROVER@example.org', display_name: 'dup' }).expect(400);
      await post('approvers', { username: 'not-an-email', display_name: 'x' }).expect(400);
      const badSite = await post('approvers', { username: 'c@example.org', display_name: 'C', sites: [999] });
      expect(badSite.status).toBe(400);
      expect(badSite.body.fields).toHaveProperty('sites');
      await t.http.delete(`${ROOT}/approvers/${created.body.id}/`).set('X-Auth-Token', ADMIN_TOKEN).expect(405);
      await get('approvers/999999/').expect(404);
    });
  });

  describe('organisations/', () => {
    it('lets admin create any field, and hides proposed_by/vetted_by from users', async () => {
      const parent = (await post('organisations', { full_name: 'Parent Org', short_name: 'PO', url: 'https://p.example.org' })).body;
      const res = await post('organisations', {
        ror_id: 'https://ror.org/01ej9dk98',
        full_name: 'The University of Melbourne',
        short_name: 'UoM',
        url: 'https://unimelb.edu.au',
        country: 'au',
        parent: parent.id,
        precedes: [parent.id],
        enabled: true,
        proposed_by: 'someone',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        ror_id: 'https://ror.org/01ej9dk98',
        full_name: 'The University of Melbourne',
        short_name: 'UoM',
        url: 'https://unimelb.edu.au',
        country: 'AU',
        parent: parent.id,
        precedes: [parent.id],
        enabled: true,
        proposed_by: 'someone',
        vetted_by: null,
      });
      const asUser = await get(`organisations/${res.body.id}/`, user).expect(200);
      expect(asUser.body).not.toHaveProperty('proposed_by');
      expect(asUser.body).not.toHaveProperty('vetted_by');
      expect((await get(`organisations/${res.body.id}/`, reader)).body).toHaveProperty('proposed_by', 'someone');
      await post('organisations', { full_name: 'x', short_name: 'x', parent: 999 }).expect(400);
      await post('organisations', { full_name: 'x', short_name: 'x'.repeat(17) }).expect(400);
      await post('organisations', { full_name: 'x', short_name: 'x', url: 'ftp://x' }).expect(400);
      await post('organisations', { full_name: 'x', short_name: 'x', country: 'AUS' }).expect(400);
      await get('organisations/abc/').expect(404);
      await get('organisations/99999999999/').expect(404);
      await get('organisations/?enabled=perhaps').expect(400);
      expect((await get('organisations/?enabled=False')).body.count).toBe(0);
    });

    it('takes a proposal from a user or service, ignoring vetting fields and refusing duplicates', async () => {
      const res = await post('organisations', { full_name: 'New Institute', short_name: 'NI', url: 'https://ni.example.org', ror_id: 'https://ror.org/x', enabled: false, vetted_by: 'me', proposed_by: 'someone-else' }, user);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ ror_id: '', country: 'AU', enabled: true, parent: null, precedes: [] });
      expect(res.body).not.toHaveProperty('proposed_by');
      const stored = (await get(`organisations/${res.body.id}/`)).body;
      expect(stored).toMatchObject({ proposed_by: 'alice@example.org', vetted_by: null });
      const bySvc = await post('organisations', { full_name: 'Svc Org', short_name: 'SO', url: 'http://so.example.org' }, service);
      expect(bySvc.status).toBe(201);
      expect(bySvc.body.proposed_by).toBe('svc');
      for (const body of [
        { full_name: 'new institute', short_name: 'N2', url: 'https://other.example.org' },
        { full_name: 'Other', short_name: 'N2', url: 'HTTPS://NI.example.org' },
        { full_name: 'Other', short_name: 'N2' },
        { full_name: 'Other', short_name: 'N2', url: 'not a url' },
      ]) {
        await post('organisations', body, user).expect(400);
      }
      await post('organisations', { full_name: 'R', short_name: 'R', url: 'https://r.example.org' }, reader).expect(403);
    });

    it('filters by the lookups the client uses', async () => {
      await post('organisations', { full_name: 'Alpha University', short_name: 'AU1', url: 'https://a.example.org', ror_id: 'https://ror.org/aaa' }).expect(201);
      await post('organisations', { full_name: 'Beta College', short_name: 'BC', url: 'https://b.example.org', country: 'NZ' }).expect(201);
      const names = async (q: string) => (await get(`organisations/?${q}`).expect(200)).body.results.map((o: any) => o.short_name);
      expect(await names('short_name=BC')).toEqual(['BC']);
      expect(await names('short_name__iexact=bc')).toEqual(['BC']);
      expect(await names('full_name=Alpha University')).toEqual(['AU1']);
      expect(await names('full_name__iexact=alpha university')).toEqual(['AU1']);
      expect(await names('full_name__icontains=COLL')).toEqual(['BC']);
      expect(await names('country=NZ')).toEqual(['BC']);
      expect(await names('country__iexact=nz')).toEqual(['BC']);
      expect(await names('ror_id=https://ror.org/aaa')).toEqual(['AU1']);
      expect(await names('ror_id__iexact=HTTPS://ROR.ORG/AAA')).toEqual(['AU1']);
      expect(await names('url=https://b.example.org')).toEqual(['BC']);
      expect(await names('url__iexact=HTTPS://B.example.org')).toEqual(['BC']);
      expect(await names('unknown=1')).toEqual(['AU1', 'BC']);
    });

    it('lets only admin patch, approve and decline; ROR entries are not vetted', async () => {
      const proposal = (await post('organisations', { full_name: 'Prop', short_name: 'P', url: 'https://p.example.org' }, user)).body;
      const ror = (await post('organisations', { full_name: 'Ror', short_name: 'R', ror_id: 'https://ror.org/r' })).body;
      for (const token of [service, reader, user]) {
        await patch(`organisations/${proposal.id}`, { short_name: 'X' }, token).expect(403);
        await t.http.post(`${ROOT}/organisations/${proposal.id}/approve/`).set('X-Auth-Token', token).expect(403);
        await t.http.post(`${ROOT}/organisations/${proposal.id}/decline/`).set('X-Auth-Token', token).expect(403);
      }
      expect((await patch(`organisations/${proposal.id}`, { short_name: 'PP' }).expect(200)).body.short_name).toBe('PP');
      await patch(`organisations/${proposal.id}`, { full_name: '' }).expect(400);
      let res = await t.http.post(`${ROOT}/organisations/${proposal.id}/decline/`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      expect(res.body).toMatchObject({ enabled: false, vetted_by: 'admin' });
      res = await t.http.post(`${ROOT}/organisations/${proposal.id}/approve/`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      expect(res.body).toMatchObject({ enabled: true, vetted_by: 'admin' });
      res = await t.http.post(`${ROOT}/organisations/${ror.id}/approve/`).set('X-Auth-Token', ADMIN_TOKEN);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/ROR/);
      await t.http.post(`${ROOT}/organisations/${ror.id}/decline/`).set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      await t.http.post(`${ROOT}/organisations/999999/approve/`).set('X-Auth-Token', ADMIN_TOKEN).expect(404);
      await t.http.delete(`${ROOT}/organisations/${ror.id}/`).set('X-Auth-Token', ADMIN_TOKEN).expect(405);
    });
  });
});
