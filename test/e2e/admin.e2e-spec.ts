import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

describe('admin API', () => {

  const t = useTestApp();

  const admin = () => ({
    get: (url: string) => t.http.get(url).set('X-Auth-Token', ADMIN_TOKEN),
    post: (url: string, body?: object) => t.http.post(url).set('X-Auth-Token', ADMIN_TOKEN).send(body),
    delete: (url: string) => t.http.delete(url).set('X-Auth-Token', ADMIN_TOKEN),
  });

  describe('POST /admin/tokens', () => {
    it('creates a token whose secret appears only in this answer', async () => {
      const res = await admin().post('/admin/tokens', { name: 'billing', role: 'reader' }).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'billing',
        role: 'reader',
        user_id: null,
        project_ids: [],
        token: expect.any(String),
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect(res.body.token.length).toBeGreaterThanOrEqual(40);
      const list = await admin().get('/admin/tokens').expect(200);
      expect(list.body).toEqual([{ ...res.body, token: undefined }].map(({ token: _token, ...rest }) => rest));
      expect(JSON.stringify(list.body)).not.toContain(res.body.token);
    });

    it('creates a user token bound to a user and projects, which then works', async () => {
      const res = await admin().post('/admin/tokens', { name: 'alice', role: 'user', user_id: 'alice', project_ids: ['p1', 'p2'] }).expect(201);
      expect(res.body).toMatchObject({ role: 'user', user_id: 'alice', project_ids: ['p1', 'p2'] });
      await t.http.get('/v1/volume_types').set('X-Auth-Token', res.body.token).expect(200);
    });

    it.each([
      [{ role: 'reader' }, 'name'],
      [{ name: '', role: 'reader' }, 'name'],
      [{ name: 'x' }, 'role'],
      [{ name: 'x', role: 'root' }, 'role'],
      [{ name: 'x', role: 'user' }, 'user_id'],
      [{ name: 'x', role: 'user', user_id: '' }, 'user_id'],
      [{ name: 'x', role: 'reader', project_ids: 'p1' }, 'project_ids'],
      [{ name: 'x', role: 'reader', project_ids: [1] }, 'project_ids'],
      [{ name: 'x', role: 'reader', colour: 'blue' }, 'colour'],
    ])('answers 400 naming the field once for %p', async (body, field) => {
      const res = await admin().post('/admin/tokens', body).expect(400);
      expect(res.body.error).toMatch(new RegExp(`^${field} `));
      // Not `user_id: user_id must be …` nor the same rule twice.
      expect(res.body.error.split(field)).toHaveLength(2);
      expect(res.body.fields[field]).toBe(res.body.error);
    });

    it('answers 400 without a body', async () => {
      const res = await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      expect(res.body.error).toBe('request body is required');
    });
  });

  describe('DELETE /admin/tokens/:id', () => {
    it('deletes a token, which stops working at once', async () => {
      const created = await admin().post('/admin/tokens', { name: 's', role: 'service' }).expect(201);
      await t.http.get('/v1/volume_types').set('X-Auth-Token', created.body.token).expect(200);
      await admin().delete(`/admin/tokens/${created.body.id}`).expect(204);
      await t.http.get('/v1/volume_types').set('X-Auth-Token', created.body.token).expect(401);
      await admin().delete(`/admin/tokens/${created.body.id}`).expect(404);
    });

    it('answers 404 for an id that is not a uuid', async () => {
      const res = await admin().delete('/admin/tokens/not-a-uuid').expect(404);
      expect(res.body.error).toMatch(/not-a-uuid/);
    });
  });

  describe('sites', () => {
    it('creates, lists and rotates a site key; the old key stops working', async () => {
      const created = await admin().post('/admin/sites', { name: 'site-a' }).expect(201);
      expect(created.body).toEqual({ name: 'site-a', api_key: expect.any(String), created_at: expect.stringMatching(/Z$/) });
      const list = await admin().get('/admin/sites').expect(200);
      expect(list.body).toEqual([{ name: 'site-a', created_at: created.body.created_at }]);
      const rotated = await admin().post('/admin/sites/site-a/rotate').expect(200);
      expect(rotated.body).toEqual({ name: 'site-a', api_key: expect.any(String) });
      expect(rotated.body.api_key).not.toBe(created.body.api_key);
      await expect(t.runtime.dataSource.query('SELECT api_key_hash FROM amie_site')).resolves.toEqual([
        { api_key_hash: expect.not.stringContaining(rotated.body.api_key) },
      ]);
    });

    it('answers 409 for an existing name, 404 rotating an unknown site, 400 for a bad name', async () => {
      await admin().post('/admin/sites', { name: 'site-a' }).expect(201);
      const dup = await admin().post('/admin/sites', { name: 'site-a' }).expect(409);
      expect(dup.body.error).toMatch(/site-a/);
      await admin().post('/admin/sites/nope/rotate').expect(404);
      const bad = await admin().post('/admin/sites', { name: 'has space' }).expect(400);
      expect(bad.body.error).toMatch(/^name must be /);
    });
  });

  describe('roles', () => {
    it.each([
      ['GET', '/admin/tokens'],
      ['POST', '/admin/tokens'],
      ['DELETE', '/admin/tokens/00000000-0000-0000-0000-000000000000'],
      ['GET', '/admin/sites'],
      ['POST', '/admin/sites'],
      ['POST', '/admin/sites/x/rotate'],
    ])('%s %s: 401 without a token, 403 for every other role', async (method, url) => {
      const call = (token?: string) => {
        const req = t.http[method.toLowerCase() as 'get' | 'post' | 'delete'](url);
        return token ? req.set('X-Auth-Token', token) : req;
      };
      const none = await call().expect(401);
      expect(none.body).toEqual({ error: 'No X-Auth-Token header: this call needs a token' });
      expect((await call('not-a-token').expect(401)).body).toEqual({ error: 'The X-Auth-Token is not a known token (never issued, or revoked)' });
      for (const role of ['service', 'reader', 'user'] as const) {
        const res = await call(await t.token(role));
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ error: 'Forbidden' });
      }
    });

    it('never stores a secret in clear', async () => {
      const created = await admin().post('/admin/tokens', { name: 'x', role: 'admin' }).expect(201);
      const rows = await t.runtime.dataSource.query('SELECT * FROM api_token');
      expect(JSON.stringify(rows)).not.toContain(created.body.token);
    });
  });

  describe('path parameters', () => {
    it('a NUL in a token id or site name is a 400 naming it; nothing is deleted or rotated', async () => {
      await admin().post('/admin/sites', { name: 'site-a' }).expect(201);
      const token = await admin().delete('/admin/tokens/a%00b').expect(400);
      expect(token.body).toEqual({ error: 'id: must not contain a NUL character (\\u0000)', fields: { id: 'must not contain a NUL character (\\u0000)' } });
      const site = await admin().post('/admin/sites/site-a%00/rotate').expect(400);
      expect(site.body.error).toMatch(/^name: /);
    });

    it('a site name that cannot exist is 404, like an unknown one', async () => {
      const res = await admin().post(`/admin/sites/${'x'.repeat(300)}/rotate`).expect(404);
      expect(res.body.error).toMatch(/not found/);
    });
  });

  describe('OpenAPI', () => {
    const OPERATIONS: [string, string, string][] = [
      ['post', '/admin/tokens', 'admin.createToken'],
      ['get', '/admin/tokens', 'admin.listTokens'],
      ['delete', '/admin/tokens/{id}', 'admin.deleteToken'],
      ['post', '/admin/sites', 'admin.createSite'],
      ['get', '/admin/sites', 'admin.listSites'],
      ['post', '/admin/sites/{name}/rotate', 'admin.rotateSite'],
    ];

    it.each(OPERATIONS)('%s %s: tagged, named %s, token security, error answers in the admin shape', async (method, path, operationId) => {
      const doc = (await t.http.get('/docs').expect(200)).body;
      const op = doc.paths[path]?.[method];
      expect(op).toBeDefined();
      expect(op.operationId).toBe(operationId);
      expect(op.tags).toEqual(['admin']);
      expect(op.security).toEqual([{ token: [] }]);
      for (const status of ['401', '403', '503']) {
        expect(op.responses[status].content['application/json'].schema).toMatchObject({ required: ['error'], properties: { error: { type: 'string' } } });
      }
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success).toHaveLength(1);
    });

    it('declares bodies, path parameters and answers from the DTO classes', async () => {
      const doc = (await t.http.get('/docs').expect(200)).body;
      const schemas = doc.components.schemas;
      const ref = (op: any) => op.requestBody.content['application/json'].schema.$ref.split('/').pop();
      expect(schemas[ref(doc.paths['/admin/tokens'].post)]).toMatchObject({
        required: expect.arrayContaining(['name', 'role']),
        properties: { role: { enum: ['admin', 'service', 'reader', 'user'] }, project_ids: { type: 'array', items: { type: 'string' } } },
      });
      expect(schemas[ref(doc.paths['/admin/sites'].post)].properties.name.pattern).toBe('^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$');
      expect(doc.paths['/admin/tokens/{id}'].delete.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
      expect(doc.paths['/admin/sites/{name}/rotate'].post.parameters).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
      const created = doc.paths['/admin/tokens'].post.responses['201'].content['application/json'].schema.$ref.split('/').pop();
      expect(Object.keys(schemas[created].properties).sort()).toEqual(['created_at', 'id', 'name', 'project_ids', 'role', 'token', 'user_id']);
      const list = doc.paths['/admin/tokens'].get.responses['200'].content['application/json'].schema;
      expect(list.type).toBe('array');
      expect(Object.keys(schemas[list.items.$ref.split('/').pop()].properties)).not.toContain('token');
      expect(doc.paths['/admin/tokens'].post.responses['400']).toBeDefined();
      expect(doc.paths['/admin/sites'].post.responses['409']).toBeDefined();
      expect(doc.paths['/admin/sites/{name}/rotate'].post.responses['404']).toBeDefined();
    });
  });
});
