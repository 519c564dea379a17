import { QuotasService } from '../../src/quotas/quotas.service';
import { ADMIN_TOKEN, startTestApp, useTestApp } from '../support/test-app';

// Astakos-style quotas and commissions (spec/quotas.md), through HTTP exactly
// as astakosclient speaks it: JSON bodies, X-Auth-Token, Synnefo faults.

const ACCOUNT = '/astakos/account/v1.0';
const ALIAS = '/astakos/api';
const U1 = 'c02f315b-7d84-45bc-a383-552a3f97d2ad';
const U2 = '4a7a12b1-2a40-4c9b-9d9e-0f1a6e0b2c11';
const P = '0a1e7d3c-5b6a-4f1e-8c2d-9e8f7a6b5c4d';
const VM = 'cyclades.vm';
const RAM = 'cyclades.ram';

type Provision = { holder: string; source: string | null; resource: string; quantity: number };
const userProv = (user: string, project: string, resource: string, quantity: number): Provision => ({
  holder: `user:${user}`,
  source: `project:${project}`,
  resource,
  quantity,
});
const projectProv = (project: string, resource: string, quantity: number): Provision => ({
  holder: `project:${project}`,
  source: null,
  resource,
  quantity,
});
/** astakosclient's mk_provisions: the user holding and the project holding together. */
const both = (user: string, project: string, resource: string, quantity: number) => [
  userProv(user, project, resource, quantity),
  projectProv(project, resource, quantity),
];

describe('quotas (Astakos protocol)', () => {
  let service: string;

  const t = useTestApp();

  beforeEach(async () => {
    service = await t.token('service', { name: 'cyclades' });
  });

  const admin = () => ({
    put: (path: string) => t.http.put(path).set('X-Auth-Token', ADMIN_TOKEN),
    get: (path: string) => t.http.get(path).set('X-Auth-Token', ADMIN_TOKEN),
    delete: (path: string) => t.http.delete(path).set('X-Auth-Token', ADMIN_TOKEN),
  });

  async function defineResource(name: string, fields: Record<string, unknown> = {}): Promise<void> {
    await admin()
      .put(`/admin/quotas/resources/${name}`)
      .send({ service: 'cyclades_compute', ...fields })
      .expect((res) => expect([200, 201]).toContain(res.status));
  }

  async function setLimits(holdings: { holder: string; source: string | null; resource: string; limit: number }[]): Promise<void> {
    await admin().put('/admin/quotas/holdings').send({ holdings }).expect(200);
  }

  /** U1 in project P: per-member limit `member`, project limit `project`. */
  async function standardSetup(member = 5, project = 8): Promise<void> {
    await defineResource(VM);
    await setLimits([
      { holder: `user:${U1}`, source: `project:${P}`, resource: VM, limit: member },
      { holder: `user:${U2}`, source: `project:${P}`, resource: VM, limit: member },
      { holder: `project:${P}`, source: null, resource: VM, limit: project },
    ]);
  }

  function issue(body: unknown, token = service, prefix = ACCOUNT) {
    return t.http.post(`${prefix}/commissions`).set('X-Auth-Token', token).send(body as object);
  }

  async function holding(holder: string, source: string | null, resource = VM) {
    const res = await admin()
      .get('/admin/quotas/holdings')
      .query({ holder, source: source ?? 'null', resource })
      .expect(200);
    expect(res.body.holdings).toHaveLength(1);
    return res.body.holdings[0] as { limit: number; usage: number; pending: number; origin: string | null };
  }

  function action(serial: number | string, body: unknown, token = service) {
    return t.http
      .post(`${ACCOUNT}/commissions/${serial}/action`)
      .set('X-Auth-Token', token)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
  }

  // ---------------------------------------------------------------------------

  describe('POST /astakos/identity/v2.0/tokens', () => {
    it('answers the catalog to astakosclient’s empty POST, without checking the token', async () => {
      const res = await t.http
        .post('/astakos/identity/v2.0/tokens')
        .set('content-type', 'application/json')
        .set('content-length', '0')
        .set('X-Auth-Token', 'not-a-known-token')
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const account = res.body.access.serviceCatalog.find((s: { name: string }) => s.name === 'astakos_account');
      expect(account.type).toBe('account');
      expect(account.endpoints_links).toEqual([]);
      expect(account.endpoints).toHaveLength(1);
      const endpoint = account.endpoints[0];
      expect(endpoint.versionId).toBe('v1.0');
      expect(endpoint.region).toBe('default');
      expect(endpoint.publicURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/astakos\/account\/v1\.0$/);
      // The page for people is the dashboard (astakos/ui was never served).
      expect(endpoint['SNF:uiURL']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard$/);
      const identity = res.body.access.serviceCatalog.find((s: { name: string }) => s.name === 'astakos_identity');
      expect(identity.endpoints[0]).toMatchObject({ versionId: 'v2.0', publicURL: expect.stringMatching(/\/astakos\/identity\/v2\.0$/) });
      expect(identity.endpoints[0]['SNF:uiURL']).toBe(endpoint['SNF:uiURL']);
      expect(res.body.access.token).toBeUndefined();
    });

    it('builds publicURL from the forwarded host only when TRUST_PROXY is set', async () => {
      const res = await t.http.post('/astakos/identity/v2.0/tokens').set('X-Forwarded-Host', 'evil.example').expect(200);
      expect(res.body.access.serviceCatalog[0].endpoints[0].publicURL).not.toContain('evil.example');
    });

    it('takes publicURL from PUBLIC_URL when it is set', async () => {
      const other = await startTestApp({ PUBLIC_URL: 'https://ledger.example.org/' });
      try {
        const res = await other.http.post('/astakos/identity/v2.0/tokens').expect(200);
        expect(res.body.access.serviceCatalog[0].endpoints[0].publicURL).toBe('https://ledger.example.org/astakos/account/v1.0');
        expect(res.body.access.serviceCatalog[0].endpoints[0]['SNF:uiURL']).toBe('https://ledger.example.org/dashboard');
      } finally {
        await other.close();
      }
    });

    it('answers token, user and catalog for a known token in the body', async () => {
      const token = await t.token('user', { name: 'alice', userId: U1, projectIds: [P] });
      const res = await t.http
        .post('/astakos/identity/v2.0/tokens')
        .set('content-type', 'application/json')
        .send({ auth: { token: { id: token }, tenantName: U1 } })
        .expect(200);
      expect(res.body.access.token).toEqual({ id: token, expires: null, tenant: { id: U1, name: 'alice' } });
      expect(res.body.access.user).toEqual({
        id: U1,
        name: 'alice',
        roles: [{ id: 'user', name: 'user' }],
        roles_links: [],
        projects: [P],
      });
      expect(res.body.access.serviceCatalog).toHaveLength(2);
    });

    it('answers ASCII-only JSON, non-ASCII names as \\u escapes (astakosclient decodes answers as ASCII on Python 2)', async () => {
      const token = await t.token('user', { name: 'José 😀', userId: U1, projectIds: [P] });
      const res = await t.http.post('/astakos/identity/v2.0/tokens').send({ auth: { token: { id: token } } }).expect(200);
      expect(res.text).toContain('"name":"Jos\\u00e9 \\ud83d\\ude00"');
      expect(/^[\x00-\x7f]*$/.test(res.text)).toBe(true);
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
      expect(res.body.access.user.name).toBe('José 😀');
    });

    it('parses the body as JSON whatever the content type says', async () => {
      const res = await t.http
        .post('/astakos/identity/v2.0/tokens')
        .set('content-type', 'application/octet-stream')
        .send(JSON.stringify({ auth: { token: { id: service } } }))
        .expect(200);
      expect(res.body.access.user).toMatchObject({ id: null, name: 'cyclades', roles: [{ id: 'service', name: 'service' }], projects: [] });
    });

    it('answers 401 unauthorized for an unknown token in the body', async () => {
      const res = await t.http.post('/astakos/identity/v2.0/tokens').send({ auth: { token: { id: 'nope' } } }).expect(401);
      expect(res.body).toEqual({ unauthorized: { code: 401, message: 'The token in the body (auth.token.id) is not a known token (never issued, or revoked)', details: '' } });
    });

    it('answers 400 badRequest for a malformed body', async () => {
      for (const body of ['{}', '{"auth": {"token": {}}}', '[1]', '"x"', '{"auth": {"token": {"id": 5}}}']) {
        const res = await t.http.post('/astakos/identity/v2.0/tokens').set('content-type', 'application/json').send(body).expect(400);
        expect(res.body.badRequest.code).toBe(400);
      }
      const notJson = await t.http.post('/astakos/identity/v2.0/tokens').set('content-type', 'text/plain').send('{auth').expect(400);
      expect(notJson.body.badRequest).toMatchObject({ code: 400 });
    });

    it('answers 400 when tenantName is not the token’s user', async () => {
      const token = await t.token('user', { userId: U1 });
      const res = await t.http
        .post('/astakos/identity/v2.0/tokens')
        .send({ auth: { token: { id: token }, tenantName: U2 } })
        .expect(400);
      expect(res.body.badRequest.message).toContain(U2);
    });

    it('answers 405 notAllowed with Allow for GET', async () => {
      const res = await t.http.get('/astakos/identity/v2.0/tokens').expect(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body.notAllowed.code).toBe(405);
    });
  });

  // ---------------------------------------------------------------------------

  describe('GET {account}/resources', () => {
    it.each([ACCOUNT, ALIAS])('lists api-visible resources with six fields and no token under %s', async (prefix) => {
      await defineResource(VM, { description: 'Number of virtual machines' });
      await defineResource(RAM, { service: 'cyclades_compute', unit: 'bytes', ui_visible: false, allow_in_projects: false });
      await defineResource('astakos.pending_app', { api_visible: false });
      const res = await t.http.get(`${prefix}/resources`).expect(200);
      expect(res.body).toEqual({
        [RAM]: { service: 'cyclades_compute', description: '', unit: 'bytes', ui_visible: false, api_visible: true, allow_in_projects: false },
        [VM]: {
          service: 'cyclades_compute',
          description: 'Number of virtual machines',
          unit: null,
          ui_visible: true,
          api_visible: true,
          allow_in_projects: true,
        },
      });
    });

    it('answers {} when no resource is defined, with a trailing slash too', async () => {
      const res = await t.http.get(`${ACCOUNT}/resources/`).expect(200);
      expect(res.body).toEqual({});
    });
  });

  // ---------------------------------------------------------------------------

  describe('GET {account}/quotas', () => {
    it('answers the user’s holdings keyed by bare project uuid, with project counters', async () => {
      await standardSetup();
      await defineResource(RAM, { unit: 'bytes' });
      // The system project (uuid = user uuid) has no project holding here: its counters mirror the user's.
      await setLimits([{ holder: `user:${U1}`, source: `project:${U1}`, resource: RAM, limit: 4294967296 }]);
      await issue({ provisions: both(U2, P, VM, 4), auto_accept: true }).expect(201);
      await issue({ provisions: both(U1, P, VM, 1) }).expect(201);
      const user = await t.token('user', { userId: U1 });
      const res = await t.http.get(`${ACCOUNT}/quotas`).set('X-Auth-Token', user).expect(200);
      expect(res.body).toEqual({
        [P]: { [VM]: { limit: 5, usage: 1, pending: 1, project_limit: 8, project_usage: 5, project_pending: 1 } },
        [U1]: {
          [RAM]: { limit: 4294967296, usage: 0, pending: 0, project_limit: 4294967296, project_usage: 0, project_pending: 0 },
        },
      });
    });

    it('lists holdings in projects the token does not name, and leaves out api-invisible resources', async () => {
      await standardSetup();
      await defineResource('hidden', { api_visible: false });
      await setLimits([{ holder: `user:${U1}`, source: `project:${P}`, resource: 'hidden', limit: 1 }]);
      const user = await t.token('user', { userId: U1, projectIds: [] });
      const res = await t.http.get(`${ALIAS}/quotas/`).set('X-Auth-Token', user).expect(200);
      expect(Object.keys(res.body)).toEqual([P]);
      expect(Object.keys(res.body[P])).toEqual([VM]);
    });

    it('answers {} to a user with no holdings', async () => {
      const user = await t.token('user', { userId: 'nobody' });
      const res = await t.http.get(`${ACCOUNT}/quotas`).set('X-Auth-Token', user).expect(200);
      expect(res.body).toEqual({});
    });

    it.each(['service', 'reader', 'admin'] as const)('answers 403 forbidden to a %s token', async (role) => {
      const token = await t.token(role);
      const res = await t.http.get(`${ACCOUNT}/quotas`).set('X-Auth-Token', token).expect(403);
      expect(res.body).toEqual({ forbidden: { code: 403, message: 'Forbidden', details: '' } });
    });

    it('answers 401 unauthorized without a token or with an unknown one', async () => {
      const res = await t.http.get(`${ACCOUNT}/quotas`).expect(401);
      expect(res.body).toEqual({ unauthorized: { code: 401, message: 'No X-Auth-Token header: this call needs a token', details: '' } });
      const unknown = await t.http.get(`${ACCOUNT}/quotas`).set('X-Auth-Token', 'bogus').expect(401);
      expect(unknown.body).toEqual({ unauthorized: { code: 401, message: 'The X-Auth-Token is not a known token (never issued, or revoked)', details: '' } });
    });
  });

  // ---------------------------------------------------------------------------

  describe('GET {account}/service_quotas', () => {
    const OTHER = '7d1c3b2a-1111-4222-8333-944455556666';

    beforeEach(async () => {
      await standardSetup();
      await setLimits([
        { holder: `user:${U1}`, source: `project:${OTHER}`, resource: VM, limit: 2 },
        { holder: `project:${OTHER}`, source: null, resource: VM, limit: 2 },
      ]);
    });

    it.each(['service', 'reader', 'admin'] as const)('answers every user with holdings to a %s token', async (role) => {
      const token = role === 'service' ? service : await t.token(role);
      const res = await t.http.get(`${ACCOUNT}/service_quotas`).set('X-Auth-Token', token).expect(200);
      expect(Object.keys(res.body).sort()).toEqual([U1, U2].sort());
      expect(Object.keys(res.body[U1]).sort()).toEqual([OTHER, P].sort());
      expect(res.body[U2][P][VM]).toEqual({ limit: 5, usage: 0, pending: 0, project_limit: 8, project_usage: 0, project_pending: 0 });
    });

    it('filters by a comma-separated user list as astakosclient encodes it (%2C)', async () => {
      const res = await t.http.get(`${ACCOUNT}/service_quotas?user=${U1}%2C${U2}`).set('X-Auth-Token', service).expect(200);
      expect(Object.keys(res.body).sort()).toEqual([U1, U2].sort());
      const one = await t.http.get(`${ALIAS}/service_quotas?user=${U2}`).set('X-Auth-Token', service).expect(200);
      expect(Object.keys(one.body)).toEqual([U2]);
    });

    it('filters by project', async () => {
      const res = await t.http.get(`${ACCOUNT}/service_quotas`).query({ user: U1, project: OTHER }).set('X-Auth-Token', service).expect(200);
      expect(res.body).toEqual({
        [U1]: { [OTHER]: { [VM]: { limit: 2, usage: 0, pending: 0, project_limit: 2, project_usage: 0, project_pending: 0 } } },
      });
      const all = await t.http.get(`${ACCOUNT}/service_quotas`).query({ project: P }).set('X-Auth-Token', service).expect(200);
      expect(Object.keys(all.body).sort()).toEqual([U1, U2].sort());
      expect(Object.keys(all.body[U1])).toEqual([P]);
    });

    it('treats an empty user parameter as no filter', async () => {
      const res = await t.http.get(`${ACCOUNT}/service_quotas?user=`).set('X-Auth-Token', service).expect(200);
      expect(Object.keys(res.body).sort()).toEqual([U1, U2].sort());
    });

    it('answers 404 itemNotFound naming an unknown user', async () => {
      const res = await t.http.get(`${ACCOUNT}/service_quotas?user=ghost`).set('X-Auth-Token', service).expect(404);
      expect(res.body.itemNotFound).toMatchObject({ code: 404, message: expect.stringContaining('ghost') });
    });

    it('answers 404 for a known user filtered by a project where they hold nothing', async () => {
      await t.http.get(`${ACCOUNT}/service_quotas`).query({ user: U2, project: OTHER }).set('X-Auth-Token', service).expect(404);
    });

    it('answers 403 to a user token and 401 without a token', async () => {
      const user = await t.token('user', { userId: U1 });
      await t.http.get(`${ACCOUNT}/service_quotas`).set('X-Auth-Token', user).expect(403);
      await t.http.get(`${ACCOUNT}/service_quotas`).expect(401);
    });
  });

  // ---------------------------------------------------------------------------

  describe('GET {account}/service_project_quotas', () => {
    beforeEach(async () => {
      await standardSetup();
      await setLimits([{ holder: `project:${U1}`, source: null, resource: VM, limit: 1 }]);
    });

    it('answers every project holding, keyed by bare uuid', async () => {
      await issue({ provisions: both(U1, P, VM, 3) }).expect(201);
      const res = await t.http.get(`${ACCOUNT}/service_project_quotas`).set('X-Auth-Token', service).expect(200);
      expect(res.body).toEqual({
        [P]: { [VM]: { project_limit: 8, project_usage: 3, project_pending: 3 } },
        [U1]: { [VM]: { project_limit: 1, project_usage: 0, project_pending: 0 } },
      });
    });

    it('filters by a project list', async () => {
      const reader = await t.token('reader');
      const res = await t.http.get(`${ALIAS}/service_project_quotas?project=${P}`).set('X-Auth-Token', reader).expect(200);
      expect(Object.keys(res.body)).toEqual([P]);
    });

    it('answers 404 itemNotFound when the project filter matches nothing', async () => {
      const res = await t.http.get(`${ACCOUNT}/service_project_quotas?project=ghost`).set('X-Auth-Token', service).expect(404);
      expect(res.body.itemNotFound.code).toBe(404);
    });

    it('answers 403 to a user token and 401 without a token', async () => {
      const user = await t.token('user', { userId: U1 });
      await t.http.get(`${ACCOUNT}/service_project_quotas`).set('X-Auth-Token', user).expect(403);
      await t.http.get(`${ACCOUNT}/service_project_quotas`).expect(401);
    });
  });

  // ---------------------------------------------------------------------------

  describe('POST {account}/commissions', () => {
    beforeEach(async () => {
      await standardSetup();
    });

    it('answers 201 with a serial; the import shows in usage and pending at once', async () => {
      const res = await issue({ name: 'create vm', provisions: both(U1, P, VM, 2) }).expect(201);
      expect(res.body).toEqual({ serial: expect.any(Number) });
      expect(res.body.serial).toBeGreaterThan(0);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ limit: 5, usage: 2, pending: 2 });
      expect(await holding(`project:${P}`, null)).toMatchObject({ limit: 8, usage: 2, pending: 2 });
    });

    it('hands out strictly increasing serials across credentials', async () => {
      const other = await t.token('admin', { name: 'nova' });
      const serials: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await issue({ provisions: [userProv(U1, P, VM, 0)] }, i % 2 ? other : service).expect(201);
        serials.push(res.body.serial);
      }
      expect([...serials].sort((a, b) => a - b)).toEqual(serials);
      expect(new Set(serials).size).toBe(serials.length);
    });

    it('works under the /astakos/api alias with a trailing slash, the body typed as octet-stream', async () => {
      const res = await t.http
        .post(`${ALIAS}/commissions/`)
        .set('X-Auth-Token', service)
        .set('content-type', 'application/octet-stream')
        .send(JSON.stringify({ provisions: both(U1, P, VM, 1) }))
        .expect(201);
      expect(res.body.serial).toEqual(expect.any(Number));
    });

    it('answers 413 overLimit NoCapacityError with the provision, limit and usage', async () => {
      await issue({ provisions: both(U1, P, VM, 4) }).expect(201);
      const res = await issue({ provisions: both(U1, P, VM, 2) }).expect(413);
      expect(res.body).toEqual({
        overLimit: {
          code: 413,
          message: expect.any(String),
          details: '',
          data: { name: 'NoCapacityError', provision: userProv(U1, P, VM, 2), limit: 5, usage: 4 },
        },
      });
    });

    it('reports the project holding when the project limit is what stops it (effective limit)', async () => {
      // Per-member 5, project 8; U2 uses 4, U1 uses 1: U1 may take 3 more, the fourth fails on the project.
      await issue({ provisions: both(U2, P, VM, 4), auto_accept: true }).expect(201);
      await issue({ provisions: both(U1, P, VM, 1), auto_accept: true }).expect(201);
      const user = await t.token('user', { userId: U1 });
      const entry = (await t.http.get(`${ACCOUNT}/quotas`).set('X-Auth-Token', user).expect(200)).body[P][VM];
      const effective = Math.min(entry.limit, entry.project_limit - (entry.project_usage - entry.usage));
      expect(effective - entry.usage).toBe(3);
      await issue({ provisions: both(U1, P, VM, 3) }).expect(201);
      const res = await issue({ provisions: both(U1, P, VM, 1) }).expect(413);
      expect(res.body.overLimit.data).toEqual({ name: 'NoCapacityError', provision: projectProv(P, VM, 1), limit: 8, usage: 8 });
    });

    it('answers 404 itemNotFound NoHoldingError for a missing holding or an unknown resource', async () => {
      const missing = await issue({ provisions: [userProv(U1, 'elsewhere', VM, 1)] }).expect(404);
      expect(missing.body).toEqual({
        itemNotFound: {
          code: 404,
          message: expect.any(String),
          details: '',
          data: { name: 'NoHoldingError', provision: userProv(U1, 'elsewhere', VM, 1) },
        },
      });
      const unknown = await issue({ provisions: [userProv(U1, P, 'no.such', 1)] }).expect(404);
      expect(unknown.body.itemNotFound.data.name).toBe('NoHoldingError');
    });

    it('reports only the first failing provision in request order', async () => {
      const res = await issue({ provisions: [userProv(U1, P, VM, 9), userProv(U1, 'elsewhere', VM, 1)] }).expect(413);
      expect(res.body.overLimit.data.name).toBe('NoCapacityError');
      const res2 = await issue({ provisions: [userProv(U1, 'elsewhere', VM, 1), userProv(U1, P, VM, 9)] }).expect(404);
      expect(res2.body.itemNotFound.data.name).toBe('NoHoldingError');
    });

    const invalidBodies: [string, string][] = [
      ['a body that is not JSON', '{"provisions": ['],
      ['a JSON list', '[]'],
      ['a JSON string', '"provisions"'],
      ['no provisions', '{"name": "x"}'],
      ['provisions not a list', '{"provisions": {}}'],
      ['a provision that is not an object', '{"provisions": [5]}'],
      ['a provision without holder', `{"provisions": [{"source": null, "resource": "${VM}", "quantity": 1}]}`],
      ['a provision without source', `{"provisions": [{"holder": "project:${P}", "resource": "${VM}", "quantity": 1}]}`],
      ['a provision without resource', `{"provisions": [{"holder": "project:${P}", "source": null, "quantity": 1}]}`],
      ['a provision without quantity', `{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}"}]}`],
      ['a string quantity', `{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": "1"}]}`],
      ['a boolean quantity', `{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": true}]}`],
      ['a fractional quantity', `{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": 1.5}]}`],
      ['a quantity past 2^53-1', `{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": 9007199254740992}]}`],
      ['a numeric holder', `{"provisions": [{"holder": 1, "source": null, "resource": "${VM}", "quantity": 1}]}`],
      ['a numeric source', `{"provisions": [{"holder": "project:${P}", "source": 1, "resource": "${VM}", "quantity": 1}]}`],
      ['force not boolean', '{"provisions": [], "force": "yes"}'],
      ['auto_accept not boolean', '{"provisions": [], "auto_accept": 1}'],
      ['name not a string', '{"provisions": [], "name": 5}'],
    ];
    it.each(invalidBodies)('answers 400 badRequest for %s', async (_case, body) => {
      const res = await t.http.post(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).set('content-type', 'application/json').send(body).expect(400);
      expect(res.body).toEqual({ badRequest: { code: 400, message: expect.any(String), details: '' } });
      expect((await holding(`project:${P}`, null)).usage).toBe(0);
    });

    it('answers 400 for an empty body', async () => {
      await t.http.post(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).set('content-type', 'application/json').send('').expect(400);
    });

    it('takes 1.0 as the integer 1 and ignores unknown fields', async () => {
      const body = `{"extra": true, "provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": 1.0, "note": "x"}]}`;
      await t.http.post(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).set('content-type', 'application/json').send(body).expect(201);
      expect((await holding(`project:${P}`, null)).usage).toBe(1);
    });

    it('accepts an empty provision list and a quantity of 0, changing nothing', async () => {
      const empty = await issue({ provisions: [] }).expect(201);
      const zero = await issue({ provisions: both(U1, P, VM, 0) }).expect(201);
      expect(zero.body.serial).toBeGreaterThan(empty.body.serial);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 0, pending: 0 });
    });

    describe('merging (5.3)', () => {
      it('sums same-holding provisions before the check, and reports the sum', async () => {
        await setLimits([{ holder: `user:${U1}`, source: `project:${P}`, resource: VM, limit: 3 }]);
        const res = await issue({ provisions: [userProv(U1, P, VM, 2), userProv(U1, P, VM, 2)] }).expect(413);
        expect(res.body.overLimit.data).toEqual({ name: 'NoCapacityError', provision: userProv(U1, P, VM, 4), limit: 3, usage: 0 });
      });

      it('lets +2 and -2 on the same holding pass at usage 0, and stores the sum', async () => {
        const res = await issue({ provisions: [userProv(U1, P, VM, 2), projectProv(P, VM, 1), userProv(U1, P, VM, -2)] }).expect(201);
        const detail = await t.http.get(`${ACCOUNT}/commissions/${res.body.serial}`).set('X-Auth-Token', service).expect(200);
        expect(detail.body.provisions).toEqual([userProv(U1, P, VM, 0), projectProv(P, VM, 1)]);
      });
    });

    it('applies nothing when one provision fails (all or nothing)', async () => {
      await issue({ provisions: [...both(U1, P, VM, 1), userProv(U2, P, VM, 6)] }).expect(413);
      await issue({ provisions: [...both(U1, P, VM, 1), userProv(U2, 'elsewhere', VM, 1)], auto_accept: true }).expect(404);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 0, pending: 0 });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 0, pending: 0 });
      const pending = await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).expect(200);
      expect(pending.body).toEqual([]);
    });

    describe('force (5.4)', () => {
      it('skips the limit on imports', async () => {
        await issue({ provisions: both(U1, P, VM, 10), force: true }).expect(201);
        expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ limit: 5, usage: 10, pending: 10 });
      });

      it('still refuses a release below zero with 413 NoQuantityError', async () => {
        const res = await issue({ provisions: [userProv(U1, P, VM, -1)], force: true }).expect(413);
        expect(res.body.overLimit.data).toEqual({ name: 'NoQuantityError', provision: userProv(U1, P, VM, -1), limit: 0, usage: 0 });
      });

      it('does not create missing holdings', async () => {
        await issue({ provisions: [userProv(U1, 'elsewhere', VM, 1)], force: true }).expect(404);
      });
    });

    describe('releases (5.2)', () => {
      it('cannot spend units whose import is still pending', async () => {
        await issue({ provisions: [userProv(U1, P, VM, 3)] }).expect(201);
        const res = await issue({ provisions: [userProv(U1, P, VM, -1)] }).expect(413);
        expect(res.body.overLimit.data).toEqual({ name: 'NoQuantityError', provision: userProv(U1, P, VM, -1), limit: 0, usage: 0 });
      });

      it('shows a pending release only in pending, and frees nothing until accepted', async () => {
        await issue({ provisions: [userProv(U1, P, VM, 3)], auto_accept: true }).expect(201);
        const release = await issue({ provisions: [userProv(U1, P, VM, -2)] }).expect(201);
        expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 3, pending: 2 });
        await issue({ provisions: [userProv(U1, P, VM, 3)] }).expect(413);
        await action(release.body.serial, { accept: '' }).expect(200);
        expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 1, pending: 0 });
      });

      it('allows releasing from a holding above its limit', async () => {
        await issue({ provisions: [userProv(U1, P, VM, 9)], force: true, auto_accept: true }).expect(201);
        await issue({ provisions: [userProv(U1, P, VM, 1)] }).expect(413);
        await issue({ provisions: [userProv(U1, P, VM, -2)], auto_accept: true }).expect(201);
        expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 7, pending: 0 });
      });
    });

    describe('auto_accept (5.5)', () => {
      it('moves usage at once and leaves nothing pending', async () => {
        const res = await issue({ provisions: both(U1, P, VM, 2), auto_accept: true }).expect(201);
        expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 2, pending: 0 });
        expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).expect(200)).body).toEqual([]);
        await t.http.get(`${ACCOUNT}/commissions/${res.body.serial}`).set('X-Auth-Token', service).expect(404);
        await action(res.body.serial, { accept: '' }).expect(404);
      });

      it('writes the provision log as accepted', async () => {
        const res = await issue({ name: 'vm', provisions: both(U1, P, VM, 2), auto_accept: true }).expect(201);
        const log = await t.runtime.dataSource.query(`SELECT * FROM quota_provision_log ORDER BY id`);
        expect(log).toHaveLength(2);
        expect(log[0]).toMatchObject({ serial: String(res.body.serial), client_key: 'cyclades', name: 'vm', holder: `user:${U1}`, quantity: '2', action: 'ACCEPT' });
        expect(log[0]).toMatchObject({ limit: '5', usage_min: '2', usage_max: '2' });
      });
    });

    it('answers 403 to reader and user tokens, 401 without a token', async () => {
      await issue({ provisions: [] }, await t.token('reader')).expect(403);
      await issue({ provisions: [] }, await t.token('user', { userId: U1 })).expect(403);
      const res = await t.http.post(`${ACCOUNT}/commissions`).send({ provisions: [] }).expect(401);
      expect(res.body.unauthorized.code).toBe(401);
    });

    it('answers 413 overLimit without data for a body over 1 MiB', async () => {
      const big = JSON.stringify({ provisions: [], name: 'x'.repeat(1048577) });
      const res = await t.http.post(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).set('content-type', 'application/json').send(big).expect(413);
      expect(res.body.overLimit.code).toBe(413);
      expect(res.body.overLimit.data).toBeUndefined();
    });
  });

  // ---------------------------------------------------------------------------

  describe('GET {account}/commissions', () => {
    beforeEach(async () => {
      await standardSetup();
    });

    it('lists the caller’s pending serials ascending, not other credentials’', async () => {
      const nova = await t.token('service', { name: 'nova' });
      const a = (await issue({ provisions: [userProv(U1, P, VM, 1)] }).expect(201)).body.serial;
      const other = (await issue({ provisions: [userProv(U1, P, VM, 1)] }, nova).expect(201)).body.serial;
      const b = (await issue({ provisions: [userProv(U1, P, VM, 1)] }).expect(201)).body.serial;
      await issue({ provisions: [userProv(U1, P, VM, 1)], auto_accept: true }).expect(201);
      const res = await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).expect(200);
      expect(res.body).toEqual([a, b]);
      const theirs = await t.http.get(`${ALIAS}/commissions/`).set('X-Auth-Token', nova).expect(200);
      expect(theirs.body).toEqual([other]);
    });

    it('shares commissions between tokens of the same name (the client key)', async () => {
      const replacement = await t.token('service', { name: 'cyclades' });
      const serial = (await issue({ provisions: [] }).expect(201)).body.serial;
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', replacement).expect(200)).body).toEqual([serial]);
      await action(serial, { reject: '' }, replacement).expect(200);
    });

    it('answers the bootstrap admin its own commissions under the name admin', async () => {
      const serial = (await issue({ provisions: [] }, ADMIN_TOKEN).expect(201)).body.serial;
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body).toEqual([serial]);
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).expect(200)).body).toEqual([]);
    });

    it('answers 403 to reader and user tokens, 401 without a token', async () => {
      await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', await t.token('reader')).expect(403);
      await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', await t.token('user', { userId: U1 })).expect(403);
      await t.http.get(`${ACCOUNT}/commissions`).expect(401);
    });

    it('answers 405 notAllowed with Allow for DELETE', async () => {
      const res = await t.http.delete(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).expect(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
      expect(res.body.notAllowed).toMatchObject({ code: 405 });
    });
  });

  // ---------------------------------------------------------------------------

  describe('GET {account}/commissions/<serial>', () => {
    beforeEach(async () => {
      await standardSetup();
    });

    it('answers the pending commission with its merged provisions and an ISO issue time', async () => {
      const before = Date.now();
      const serial = (await issue({ name: 'resize', provisions: [...both(U1, P, VM, 1), userProv(U1, P, VM, 1)] }).expect(201)).body.serial;
      const res = await t.http.get(`${ALIAS}/commissions/${serial}/`).set('X-Auth-Token', service).expect(200);
      expect(res.body).toEqual({
        serial,
        name: 'resize',
        issue_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        provisions: [userProv(U1, P, VM, 2), projectProv(P, VM, 1)],
      });
      expect(Date.parse(res.body.issue_time)).toBeGreaterThanOrEqual(before - 5000);
    });

    it('answers a non-ASCII commission name as \\u escapes', async () => {
      const serial = (await issue({ name: 'café', provisions: [userProv(U1, P, VM, 1)] }).expect(201)).body.serial;
      const res = await t.http.get(`${ACCOUNT}/commissions/${serial}`).set('X-Auth-Token', service).expect(200);
      expect(res.text).toContain('"name":"caf\\u00e9"');
      expect(/^[\x00-\x7f]*$/.test(res.text)).toBe(true);
      expect(res.body.name).toBe('café');
    });

    it('answers 404 itemNotFound for another credential’s serial, an unknown one, or a resolved one', async () => {
      const nova = await t.token('service', { name: 'nova' });
      const serial = (await issue({ provisions: [] }).expect(201)).body.serial;
      const res = await t.http.get(`${ACCOUNT}/commissions/${serial}`).set('X-Auth-Token', nova).expect(404);
      expect(res.body).toEqual({ itemNotFound: { code: 404, message: `serial ${serial} does not exist`, details: '' } });
      await t.http.get(`${ACCOUNT}/commissions/999999`).set('X-Auth-Token', service).expect(404);
      await t.http.get(`${ACCOUNT}/commissions/99999999999999999999`).set('X-Auth-Token', service).expect(404);
      await action(serial, { accept: '' }).expect(200);
      await t.http.get(`${ACCOUNT}/commissions/${serial}`).set('X-Auth-Token', service).expect(404);
    });

    it('answers 400 badRequest for a serial that is not a decimal integer', async () => {
      for (const serial of ['abc', '1.5', '-1', '0x10']) {
        const res = await t.http.get(`${ACCOUNT}/commissions/${serial}`).set('X-Auth-Token', service).expect(400);
        expect(res.body.badRequest.code).toBe(400);
      }
    });

    it('answers 403 to a reader token and 401 without a token', async () => {
      await t.http.get(`${ACCOUNT}/commissions/1`).set('X-Auth-Token', await t.token('reader')).expect(403);
      await t.http.get(`${ACCOUNT}/commissions/1`).expect(401);
    });
  });

  // ---------------------------------------------------------------------------

  describe('POST {account}/commissions/<serial>/action', () => {
    beforeEach(async () => {
      await standardSetup();
    });

    it('accepts: usage stays, pending drops; answers 200 with an empty body', async () => {
      const serial = (await issue({ provisions: both(U1, P, VM, 2) }).expect(201)).body.serial;
      const res = await action(serial, { accept: '' }).expect(200);
      expect(res.text).toBe('');
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 2, pending: 0 });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 2, pending: 0 });
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service)).body).toEqual([]);
    });

    it('rejects: the import is undone', async () => {
      const serial = (await issue({ provisions: both(U1, P, VM, 2) }).expect(201)).body.serial;
      await t.http.post(`${ALIAS}/commissions/${serial}/action/`).set('X-Auth-Token', service).send({ reject: '' }).expect(200);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 0, pending: 0 });
    });

    it('rejects a release: the units are back in the low bound', async () => {
      await issue({ provisions: [userProv(U1, P, VM, 3)], auto_accept: true }).expect(201);
      const serial = (await issue({ provisions: [userProv(U1, P, VM, -3)] }).expect(201)).body.serial;
      await action(serial, { reject: '' }).expect(200);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 3, pending: 0 });
      await issue({ provisions: [userProv(U1, P, VM, -3)], auto_accept: true }).expect(201);
    });

    it('resolves either way after the limit was lowered below the usage', async () => {
      const a = (await issue({ provisions: [userProv(U1, P, VM, 4)] }).expect(201)).body.serial;
      await setLimits([{ holder: `user:${U1}`, source: `project:${P}`, resource: VM, limit: 1 }]);
      await action(a, { accept: '' }).expect(200);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ limit: 1, usage: 4, pending: 0 });
      await issue({ provisions: [userProv(U1, P, VM, 1)] }).expect(413);
    });

    it('logs each provision with the holding after the step', async () => {
      const serial = (await issue({ name: 'n', provisions: both(U1, P, VM, 2) }).expect(201)).body.serial;
      await action(serial, { reject: 'because' }).expect(200);
      const log = await t.runtime.dataSource.query(`SELECT * FROM quota_provision_log ORDER BY id`);
      expect(log.map((r: { holder: string; action: string; usage_max: string }) => [r.holder, r.action, r.usage_max])).toEqual([
        [`user:${U1}`, 'REJECT', '0'],
        [`project:${P}`, 'REJECT', '0'],
      ]);
    });

    it('answers 404 itemNotFound for a resolved, unknown or foreign serial', async () => {
      const serial = (await issue({ provisions: [] }).expect(201)).body.serial;
      const nova = await t.token('service', { name: 'nova' });
      const foreign = await action(serial, { accept: '' }, nova).expect(404);
      expect(foreign.body).toEqual({ itemNotFound: { code: 404, message: `serial ${serial} does not exist`, details: '' } });
      await action(serial, { accept: '' }).expect(200);
      await action(serial, { reject: '' }).expect(404);
      await action(424242, { accept: '' }).expect(404);
    });

    it.each([
      ['both keys', { accept: '', reject: '' }],
      ['neither key', { cancel: '' }],
      ['a list body', ['accept']],
      ['a string body', 'accept'],
    ])('answers 400 badRequest for %s and leaves the commission pending', async (_case, body) => {
      const serial = (await issue({ provisions: [userProv(U1, P, VM, 1)] }).expect(201)).body.serial;
      const res = await action(serial, body).expect(400);
      expect(res.body.badRequest.code).toBe(400);
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service)).body).toEqual([serial]);
    });

    it('answers 400 for a missing body and for a serial that is not an integer', async () => {
      const serial = (await issue({ provisions: [] }).expect(201)).body.serial;
      await t.http.post(`${ACCOUNT}/commissions/${serial}/action`).set('X-Auth-Token', service).expect(400);
      await action('x1', { accept: '' }).expect(400);
    });

    it('answers 403 to a reader token and 401 without a token', async () => {
      const serial = (await issue({ provisions: [] }).expect(201)).body.serial;
      await action(serial, { accept: '' }, await t.token('reader')).expect(403);
      await t.http.post(`${ACCOUNT}/commissions/${serial}/action`).send({ accept: '' }).expect(401);
    });

    it('answers 405 notAllowed for GET', async () => {
      const res = await t.http.get(`${ACCOUNT}/commissions/1/action`).set('X-Auth-Token', service).expect(405);
      expect(res.headers.allow).toBe('POST');
    });
  });

  // ---------------------------------------------------------------------------

  describe('POST {account}/commissions/action', () => {
    beforeEach(async () => {
      await standardSetup();
    });

    const bulk = (body: unknown, token = service) =>
      t.http
        .post(`${ACCOUNT}/commissions/action`)
        .set('X-Auth-Token', token)
        .set('content-type', 'application/json')
        .send(JSON.stringify(body));

    it('accepts and rejects in one call, reporting per-serial failures', async () => {
      const nova = await t.token('service', { name: 'nova' });
      const a = (await issue({ provisions: both(U1, P, VM, 1) }).expect(201)).body.serial;
      const b = (await issue({ provisions: both(U1, P, VM, 2) }).expect(201)).body.serial;
      const c = (await issue({ provisions: both(U2, P, VM, 1) }).expect(201)).body.serial;
      const foreign = (await issue({ provisions: [] }, nova).expect(201)).body.serial;
      const res = await bulk({ accept: [a, 999999, foreign, c], reject: [b, c] }).expect(200);
      expect(res.body).toEqual({
        accepted: [a],
        rejected: [b],
        failed: [
          [999999, { itemNotFound: { code: 404, message: 'serial 999999 does not exist' } }],
          [foreign, { itemNotFound: { code: 404, message: `serial ${foreign} does not exist` } }],
          [c, { badRequest: { code: 400, message: `cannot both accept and reject serial ${c}` } }],
        ],
      });
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 1, pending: 0 });
      // The conflicting one is left pending, untouched.
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service)).body).toEqual([c]);
      expect(await holding(`user:${U2}`, `project:${P}`)).toMatchObject({ usage: 1, pending: 1 });
    });

    it('counts a serial repeated in one list once', async () => {
      const a = (await issue({ provisions: both(U1, P, VM, 1) }).expect(201)).body.serial;
      const res = await t.http.post(`${ALIAS}/commissions/action/`).set('X-Auth-Token', service).send({ accept: [a, a] }).expect(200);
      expect(res.body).toEqual({ accepted: [a], rejected: [], failed: [] });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 1, pending: 0 });
    });

    it('treats missing keys as empty lists', async () => {
      expect((await bulk({}).expect(200)).body).toEqual({ accepted: [], rejected: [], failed: [] });
      const a = (await issue({ provisions: [] }).expect(201)).body.serial;
      expect((await bulk({ reject: [a] }).expect(200)).body).toEqual({ accepted: [], rejected: [a], failed: [] });
    });

    it.each<[string, (a: number) => unknown]>([
      ['accept not a list', (a) => ({ accept: a })],
      ['a member not an integer', (a) => ({ accept: [a, String(a)] })],
      ['a boolean member', (a) => ({ accept: [a], reject: [true] })],
      ['a fractional member', (a) => ({ accept: [a], reject: [1.5] })],
      ['a list body', (a) => [a]],
    ])('answers 400 badRequest for %s and resolves nothing', async (_case, body) => {
      const a = (await issue({ provisions: both(U1, P, VM, 1) }).expect(201)).body.serial;
      const res = await bulk(body(a)).expect(400);
      expect(res.body.badRequest.code).toBe(400);
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service)).body).toEqual([a]);
    });

    it('answers 403 to a reader token and 401 without a token', async () => {
      await bulk({}, await t.token('reader')).expect(403);
      await t.http.post(`${ACCOUNT}/commissions/action`).send({}).expect(401);
    });
  });

  // ---------------------------------------------------------------------------

  describe('unknown paths under /astakos', () => {
    it('answers 404 itemNotFound for an unserved account route', async () => {
      const res = await t.http.get(`${ACCOUNT}/projects`).set('X-Auth-Token', service).expect(404);
      expect(res.body).toEqual({ itemNotFound: { code: 404, message: expect.any(String), details: '' } });
    });
  });

  // ---------------------------------------------------------------------------

  describe('PUT /admin/quotas/resources/<name>', () => {
    it('creates with defaults (201), then replaces (200)', async () => {
      const created = await admin().put(`/admin/quotas/resources/${VM}`).send({ service: 'cyclades_compute' }).expect(201);
      expect(created.body).toEqual({
        name: VM,
        service: 'cyclades_compute',
        description: '',
        unit: null,
        ui_visible: true,
        api_visible: true,
        allow_in_projects: true,
      });
      const replaced = await admin()
        .put(`/admin/quotas/resources/${VM}`)
        .send({ service: 'compute', description: 'VMs', unit: 'count', ui_visible: false, api_visible: false, allow_in_projects: false })
        .expect(200);
      expect(replaced.body).toEqual({
        name: VM,
        service: 'compute',
        description: 'VMs',
        unit: 'count',
        ui_visible: false,
        api_visible: false,
        allow_in_projects: false,
      });
    });

    it.each([
      ['no service', {}, 'service'],
      ['a numeric service', { service: 1 }, 'service'],
      ['a numeric description', { service: 's', description: 1 }, 'description'],
      ['a boolean unit', { service: 's', unit: true }, 'unit'],
      ['a string flag', { service: 's', ui_visible: 'yes' }, 'ui_visible'],
    ])('answers 400 {"error"} naming the field for %s, and creates nothing', async (_case, body, field) => {
      const res = await admin().put(`/admin/quotas/resources/${VM}`).send(body).expect(400);
      // The /admin validation shape (auth.md): the message names the field, `fields` maps it.
      expect(res.body).toEqual({ error: expect.stringMatching(new RegExp(`^${field}: `)), fields: { [field]: expect.any(String) } });
      expect((await t.http.get(`${ACCOUNT}/resources`).expect(200)).body).toEqual({});
    });

    it('answers 400 for an empty name', async () => {
      const res = await admin().put('/admin/quotas/resources/').send({ service: 's' }).expect(400);
      expect(res.body.error).toMatch(/name/);
    });

    it('accepts any characters in the name, encoded in the path', async () => {
      const res = await admin().put('/admin/quotas/resources/a%2Fb%20c').send({ service: 's' }).expect(201);
      expect(res.body.name).toBe('a/b c');
      expect(Object.keys((await t.http.get(`${ACCOUNT}/resources`).expect(200)).body)).toEqual(['a/b c']);
    });

    it('answers 400 for a name over 255 characters', async () => {
      await admin().put(`/admin/quotas/resources/${'r'.repeat(256)}`).send({ service: 's' }).expect(400);
      await admin().put(`/admin/quotas/resources/${'r'.repeat(255)}`).send({ service: 's' }).expect(201);
    });

    it('answers 401 without a token and 403 to every other role', async () => {
      await t.http.put(`/admin/quotas/resources/${VM}`).send({ service: 's' }).expect(401);
      for (const role of ['service', 'reader', 'user'] as const) {
        const res = await t.http.put(`/admin/quotas/resources/${VM}`).set('X-Auth-Token', await t.token(role)).send({ service: 's' }).expect(403);
        expect(res.body).toEqual({ error: 'Forbidden' });
      }
    });
  });

  describe('DELETE /admin/quotas/resources/<name>', () => {
    it('deletes an unused resource (204), then answers 404', async () => {
      await defineResource(VM);
      await admin().delete(`/admin/quotas/resources/${VM}`).expect(204);
      const res = await admin().delete(`/admin/quotas/resources/${VM}`).expect(404);
      expect(res.body).toEqual({ error: `resource ${VM} not found` });
      expect((await t.http.get(`${ACCOUNT}/resources`).expect(200)).body).toEqual({});
    });

    it('answers 409 while a holding of the resource exists', async () => {
      await standardSetup();
      const res = await admin().delete(`/admin/quotas/resources/${VM}`).expect(409);
      expect(res.body.error).toMatch(/holding/);
    });

    it('answers 403 to a service token', async () => {
      await t.http.delete(`/admin/quotas/resources/${VM}`).set('X-Auth-Token', service).expect(403);
    });
  });

  describe('PUT /admin/quotas/holdings', () => {
    it('creates holdings with usage 0 and answers them in request order', async () => {
      await defineResource(VM);
      const res = await admin()
        .put('/admin/quotas/holdings')
        .send({
          holdings: [
            { holder: `user:${U1}`, source: `project:${P}`, resource: VM, limit: 9007199254740991 },
            { holder: `project:${P}`, source: null, resource: VM, limit: 0 },
          ],
        })
        .expect(200);
      expect(res.body).toEqual({
        holdings: [
          { holder: `user:${U1}`, source: `project:${P}`, resource: VM, limit: 9007199254740991, usage: 0, pending: 0, origin: null },
          { holder: `project:${P}`, source: null, resource: VM, limit: 0, usage: 0, pending: 0, origin: null },
        ],
      });
    });

    it('keeps usage and pending of an existing holding, even below the new limit', async () => {
      await standardSetup();
      await issue({ provisions: both(U1, P, VM, 3), auto_accept: true }).expect(201);
      await issue({ provisions: both(U1, P, VM, 1) }).expect(201);
      const res = await admin()
        .put('/admin/quotas/holdings')
        .send({ holdings: [{ holder: `project:${P}`, source: null, resource: VM, limit: 2 }] })
        .expect(200);
      expect(res.body.holdings).toEqual([{ holder: `project:${P}`, source: null, resource: VM, limit: 2, usage: 4, pending: 1, origin: null }]);
      // One null-source holding per project and resource (NULLS NOT DISTINCT).
      const all = await admin().get('/admin/quotas/holdings').query({ holder: `project:${P}` }).expect(200);
      expect(all.body.holdings).toHaveLength(1);
    });

    it.each([
      ['a user holding with a null source', { holder: `user:${U1}`, source: null, resource: VM, limit: 1 }],
      ['a project holding with a source', { holder: `project:${P}`, source: `project:${P}`, resource: VM, limit: 1 }],
      ['a user holding with a user source', { holder: `user:${U1}`, source: `user:${U2}`, resource: VM, limit: 1 }],
      ['an unprefixed holder', { holder: U1, source: null, resource: VM, limit: 1 }],
      ['an empty id', { holder: 'project:', source: null, resource: VM, limit: 1 }],
      ['an unknown resource', { holder: `project:${P}`, source: null, resource: 'no.such', limit: 1 }],
      ['a negative limit', { holder: `project:${P}`, source: null, resource: VM, limit: -1 }],
      ['a fractional limit', { holder: `project:${P}`, source: null, resource: VM, limit: 1.5 }],
      ['a string limit', { holder: `project:${P}`, source: null, resource: VM, limit: '1' }],
      ['a limit past 2^53-1', { holder: `project:${P}`, source: null, resource: VM, limit: 9007199254740992 }],
      ['a missing source', { holder: `project:${P}`, resource: VM, limit: 1 }],
      ['an entry that is not an object', 5],
    ])('answers 400 naming the entry for %s, and changes nothing', async (_case, bad) => {
      await defineResource(VM);
      const res = await admin()
        .put('/admin/quotas/holdings')
        .send({ holdings: [{ holder: `project:${U2}`, source: null, resource: VM, limit: 1 }, bad] })
        .expect(400);
      expect(res.body.error).toMatch(/^holdings\[1\]/);
      expect((await admin().get('/admin/quotas/holdings').expect(200)).body).toEqual({ holdings: [] });
    });

    it('answers 400 when holdings is not a list', async () => {
      await admin().put('/admin/quotas/holdings').send({ holdings: {} }).expect(400);
      await admin().put('/admin/quotas/holdings').send({}).expect(400);
    });

    it('answers 403 to a service token and 401 without a token', async () => {
      await t.http.put('/admin/quotas/holdings').set('X-Auth-Token', service).send({ holdings: [] }).expect(403);
      await t.http.put('/admin/quotas/holdings').send({ holdings: [] }).expect(401);
    });
  });

  describe('GET /admin/quotas/holdings', () => {
    beforeEach(async () => {
      await standardSetup();
      await defineResource(RAM);
      await setLimits([{ holder: `project:${P}`, source: null, resource: RAM, limit: 1024 }]);
    });

    it('lists every holding ordered by holder, source, resource', async () => {
      const res = await admin().get('/admin/quotas/holdings').expect(200);
      expect(res.body.holdings.map((h: { holder: string; resource: string }) => `${h.holder} ${h.resource}`)).toEqual([
        `project:${P} ${RAM}`,
        `project:${P} ${VM}`,
        `user:${U2} ${VM}`,
        `user:${U1} ${VM}`,
      ].sort());
    });

    it('filters by holder, source (the literal null) and resource', async () => {
      const nulls = await admin().get('/admin/quotas/holdings').query({ source: 'null' }).expect(200);
      expect(nulls.body.holdings).toHaveLength(2);
      const ram = await admin().get('/admin/quotas/holdings').query({ source: 'null', resource: RAM }).expect(200);
      expect(ram.body.holdings).toEqual([{ holder: `project:${P}`, source: null, resource: RAM, limit: 1024, usage: 0, pending: 0, origin: null }]);
      const user = await admin().get('/admin/quotas/holdings').query({ holder: `user:${U1}`, source: `project:${P}` }).expect(200);
      expect(user.body.holdings).toHaveLength(1);
    });

    it('answers 403 to a reader token', async () => {
      await t.http.get('/admin/quotas/holdings').set('X-Auth-Token', await t.token('reader')).expect(403);
    });
  });

  // ---------------------------------------------------------------------------

  describe('input declared once, checked at the edge (issue 8)', () => {
    beforeEach(() => standardSetup());

    it.each([
      ['{"provisions": {}}', 'provisions: must be a list'],
      ['{"name": "x"}', 'provisions: is required'],
      [`{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": 1}, 5]}`, 'provisions[1]: must be an object'],
      [`{"provisions": [{"holder": "project:${P}", "resource": "${VM}", "quantity": 1}]}`, 'provisions[0].source: is required'],
      [`{"provisions": [{"holder": "project:${P}", "source": null, "resource": "${VM}", "quantity": "1"}]}`, 'provisions[0].quantity: must be an integer between'],
      ['{"provisions": [], "force": "yes"}', 'force: must be a boolean'],
      ['[]', 'request body must be a JSON object'],
    ])('names the field in the badRequest message under both mounts and whatever the content type: %s', async (body, message) => {
      for (const prefix of [ACCOUNT, ALIAS]) {
        for (const type of ['application/json', 'text/plain']) {
          const res = await t.http.post(`${prefix}/commissions`).set('X-Auth-Token', service).set('content-type', type).send(body).expect(400);
          expect(res.body).toEqual({ badRequest: { code: 400, message: expect.stringContaining(message), details: '' } });
          expect(res.body.badRequest.message.startsWith(message)).toBe(true);
        }
      }
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 0, pending: 0 });
    });

    it('ignores unknown fields in the body and in provisions, as Astakos does', async () => {
      const provisions = both(U1, P, VM, 1).map((p) => ({ ...p, comment: 'ignored' }));
      const res = await issue({ provisions, client: 'kamaki', extra: { a: 1 } }).expect(201);
      const detail = await t.http.get(`${ACCOUNT}/commissions/${res.body.serial}`).set('X-Auth-Token', service).expect(200);
      expect(detail.body.provisions).toEqual(both(U1, P, VM, 1));
    });

    it('names the serial of the path, the action keys and the bulk lists', async () => {
      const path = await t.http.get(`${ALIAS}/commissions/abc`).set('X-Auth-Token', service).expect(400);
      expect(path.body.badRequest.message).toBe('serial: must be a decimal integer, not "abc"');
      const actionPath = await action('1x', { accept: '' }).expect(400);
      expect(actionPath.body.badRequest.message).toMatch(/^serial: /);
      const neither = await action(1, { accept_it: '' }).expect(400);
      expect(neither.body.badRequest.message).toBe(
        'accept: request body must hold exactly one of the keys accept and reject (Specify either accept or reject action)',
      );
      const both = await action(1, { accept: '', reject: '' }).expect(400);
      expect(both.body.badRequest.message).toBe(neither.body.badRequest.message);
      const bulk = await t.http.post(`${ACCOUNT}/commissions/action`).set('X-Auth-Token', service).send({ accept: [1, '2'] }).expect(400);
      expect(bulk.body.badRequest.message).toBe('accept: must be a list of integer serials');
      const nullList = await t.http.post(`${ACCOUNT}/commissions/action`).set('X-Auth-Token', service).send({ reject: null }).expect(400);
      expect(nullList.body.badRequest.message).toBe('reject: must be a list of integer serials');
    });

    it('names the field of a malformed identity body', async () => {
      const res = await t.http.post('/astakos/identity/v2.0/tokens').send({ auth: { token: { id: 5 } } }).expect(400);
      expect(res.body.badRequest.message).toBe('auth.token.id: must be a string');
    });

    it('reads repeated query keys as one list', async () => {
      const res = await t.http.get(`${ACCOUNT}/service_quotas?user=${U1}&user=${U2}`).set('X-Auth-Token', service).expect(200);
      expect(Object.keys(res.body).sort()).toEqual([U1, U2].sort());
    });

    it('answers /admin/quotas input errors as {"error", "fields"} naming the field', async () => {
      const twice = await admin().get(`/admin/quotas/holdings?holder=a&holder=b`).expect(400);
      expect(twice.body).toEqual({ error: 'holder: must be given once, as one string', fields: { holder: 'must be given once, as one string' } });
      const longName = await admin().delete(`/admin/quotas/resources/${'r'.repeat(256)}`).expect(400);
      expect(longName.body.error).toBe('name: must be 1 to 255 characters');
      const entry = await admin().put('/admin/quotas/holdings').send({ holdings: [{ holder: `project:${P}`, source: null, resource: VM, limit: 1.5 }] }).expect(400);
      expect(entry.body.error).toMatch(/^holdings\[0\]\.limit: must be an integer from 0 to 9007199254740991$/);
    });
  });

  describe('the curl walk-through of docs/quotas.md', () => {
    it('issues the user and project provisions, lists, reads, accepts, rejects, resolves in bulk and releases', async () => {
      await standardSetup();
      const issueOne = async () =>
        (await issue({ name: 'create VM', provisions: both(U1, P, VM, 1) }, service).set('content-type', 'application/json').expect(201)).body.serial as number;
      const first = await issueOne();
      expect((await t.http.get(`${ACCOUNT}/commissions`).set('X-Auth-Token', service).expect(200)).body).toEqual([first]);
      const detail = await t.http.get(`${ACCOUNT}/commissions/${first}`).set('X-Auth-Token', service).expect(200);
      expect(detail.body).toMatchObject({ serial: first, name: 'create VM', provisions: both(U1, P, VM, 1) });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 1, pending: 1 });
      await action(first, { accept: '' }).expect(200);
      await action(first, { reject: '' }).expect(404);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 1, pending: 0 });

      const [a, b] = [await issueOne(), await issueOne()];
      await action(b, { reject: '' }).expect(200);
      const bulk = await t.http
        .post(`${ACCOUNT}/commissions/action`)
        .set('X-Auth-Token', service)
        .send({ accept: [a], reject: [b] })
        .expect(200);
      expect(bulk.body).toEqual({ accepted: [a], rejected: [], failed: [[b, { itemNotFound: { code: 404, message: `serial ${b} does not exist` } }]] });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 2, pending: 0 });

      await issue({ auto_accept: true, provisions: both(U1, P, VM, -1) }).expect(201);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 1, pending: 0 });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 1, pending: 0 });
    });

    it('a raw caller sending only the user provision leaves the project total untouched', async () => {
      await standardSetup();
      await issue({ auto_accept: true, provisions: [userProv(U1, P, VM, 2)] }).expect(201);
      expect(await holding(`user:${U1}`, `project:${P}`)).toMatchObject({ usage: 2 });
      expect(await holding(`project:${P}`, null)).toMatchObject({ usage: 0 });
    });
  });

  describe(QuotasService.name, () => {
    it('setLimits with an allocation origin creates holdings and never replaces an administrator’s limit', async () => {
      await defineResource(VM);
      await setLimits([{ holder: `project:${P}`, source: null, resource: VM, limit: 3 }]);
      const quotas = t.app.get(QuotasService);
      const first = await quotas.setLimits(
        [
          { holder: `project:${P}`, source: null, resource: VM, limit: 10 },
          { holder: `project:${U2}`, source: null, resource: VM, limit: 7 },
        ],
        { origin: 'allocation:42' },
      );
      expect(first.map((h) => [h.holder, h.limit, h.origin])).toEqual([
        [`project:${P}`, 3, null],
        [`project:${U2}`, 7, 'allocation:42'],
      ]);
      const second = await quotas.setLimits([{ holder: `project:${U2}`, source: null, resource: VM, limit: 9 }], { origin: 'allocation:43' });
      expect(second[0]).toMatchObject({ limit: 9, origin: 'allocation:43' });
      // The admin API takes the holding back: origin null, and later allocation writes leave it alone.
      await setLimits([{ holder: `project:${U2}`, source: null, resource: VM, limit: 1 }]);
      const third = await quotas.setLimits([{ holder: `project:${U2}`, source: null, resource: VM, limit: 5 }], { origin: 'allocation:44' });
      expect(third[0]).toMatchObject({ limit: 1, origin: null });
    });

    it('the admin API shows the origin the allocation link wrote, and takes the holding back with origin null', async () => {
      await defineResource(VM);
      await t.app.get(QuotasService).setLimits([{ holder: `project:${P}`, source: null, resource: VM, limit: 6 }], { origin: 'allocation:7' });
      const listed = await admin().get('/admin/quotas/holdings').expect(200);
      expect(listed.body).toEqual({ holdings: [{ holder: `project:${P}`, source: null, resource: VM, limit: 6, usage: 0, pending: 0, origin: 'allocation:7' }] });
      const put = await admin()
        .put('/admin/quotas/holdings')
        .send({ holdings: [{ holder: `project:${P}`, source: null, resource: VM, limit: 2 }] })
        .expect(200);
      expect(put.body.holdings).toEqual([{ holder: `project:${P}`, source: null, resource: VM, limit: 2, usage: 0, pending: 0, origin: null }]);
      expect((await holding(`project:${P}`, null)).origin).toBeNull();
      // Not part of the Astakos protocol: the quota answers stay as they were.
      const projectQuotas = await t.http.get(`${ACCOUNT}/service_project_quotas`).set('X-Auth-Token', service).expect(200);
      expect(projectQuotas.body).toEqual({ [P]: { [VM]: { project_limit: 2, project_usage: 0, project_pending: 0 } } });
    });

    it('setLimits runs inside a caller’s transaction and rolls back with it', async () => {
      await defineResource(VM);
      const quotas = t.app.get(QuotasService);
      await expect(
        t.runtime.dataSource.transaction(async (manager) => {
          await quotas.setLimits([{ holder: `project:${P}`, source: null, resource: VM, limit: 4 }], { origin: 'allocation:1', manager });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await admin().get('/admin/quotas/holdings').expect(200)).body.holdings).toEqual([]);
    });
  });
});
