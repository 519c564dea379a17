import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/**
 * Issue 8 item 2: bad input is a 4xx on every mount, in the mount's error
 * shape, before any handler (or credential lookup) runs.
 */
describe('hardening: bad input is a 4xx', () => {
  const t = useTestApp();
  const NUL_PROBLEM = 'must not contain a NUL character (\\u0000)';

  describe('NUL characters', () => {
    it('GET /v1/entity/%00: 400 naming the path parameter, Almanach field-keyed shape', async () => {
      const token = await t.token('reader');
      const res = await t.http.get('/v1/entity/%00').set('X-Auth-Token', token).expect(400);
      expect(res.body).toEqual({ error: { entity_id: NUL_PROBLEM } });
      // The unprefixed Almanach route too, and before the credential is checked.
      const bare = await t.http.get('/entity/a%00b').expect(400);
      expect(bare.body).toEqual({ error: { entity_id: NUL_PROBLEM } });
    });

    it('GET /astakos/account/v1.0/service_quotas?user=a%00b: 400 naming the query key, Synnefo fault', async () => {
      const res = await t.http.get('/astakos/account/v1.0/service_quotas?user=a%00b').set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      expect(res.body).toEqual({ badRequest: { code: 400, message: `user: ${NUL_PROBLEM}`, details: '' } });
    });

    it('a repeated query key holding a NUL names it with its index', async () => {
      const res = await t.http.get('/admin/quotas/holdings?holder=a&holder=b%00').set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      expect(res.body).toEqual({ error: `holder[1]: ${NUL_PROBLEM}`, fields: { holder: NUL_PROBLEM } });
    });

    it('PUT /admin/quotas/resources/a%00b: 400 naming the path parameter', async () => {
      const res = await t.http
        .put('/admin/quotas/resources/a%00b')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .send({ unit: 'GB', default_limit: 1 })
        .expect(400);
      expect(res.body).toEqual({ error: `name: ${NUL_PROBLEM}`, fields: { name: NUL_PROBLEM } });
    });

    it('POST /admin/tokens {"name":"a\\u0000b"}: 400 naming the field, and nothing is written', async () => {
      const res = await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).send({ name: 'a\u0000b', role: 'reader' }).expect(400);
      expect(res.body).toEqual({ error: `name: ${NUL_PROBLEM}`, fields: { name: NUL_PROBLEM } });
      await expect(t.runtime.dataSource.query('SELECT count(*)::int AS n FROM api_token')).resolves.toEqual([{ n: 0 }]);
    });

    it('names a JSON string at any depth, and an object key', async () => {
      const deep = await t.http
        .post('/admin/tokens')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .send({ name: 'x', role: 'reader', project_ids: ['p1', 'p\u00002'] })
        .expect(400);
      expect(deep.body.error).toBe(`project_ids[1]: ${NUL_PROBLEM}`);
      const nested = await t.http
        .post('/allocations/v1/allocations')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .send({ project_name: 'p', quotas: [{ zone: 'z', resource: 'r\u0000' }] })
        .expect(400);
      expect(nested.body).toEqual({ error: `quotas[0].resource: ${NUL_PROBLEM}`, fields: { quotas: [NUL_PROBLEM] } });
      const key = await t.http.post('/admin/sites').set('X-Auth-Token', ADMIN_TOKEN).send({ 'na\u0000me': 'x' }).expect(400);
      expect(key.body.error).toBe(`request body: ${NUL_PROBLEM}`);
    });

    it('names a form value (allocations accept form-encoded bodies)', async () => {
      const res = await t.http
        .post('/allocations/v1/allocations')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .type('form')
        .send('project_name=a%00b&project_description=x')
        .expect(400);
      expect(res.body).toEqual({ error: `project_name: ${NUL_PROBLEM}`, fields: { project_name: [NUL_PROBLEM] } });
    });

    it('checks the astakos body once it is parsed from any content type', async () => {
      const res = await t.http
        .post('/astakos/account/v1.0/commissions')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ provisions: [{ holder: 'user:a\u0000', source: 'system', resource: 'r', quantity: 1 }] }))
        .expect(400);
      expect(res.body.badRequest.message).toBe(`provisions[0].holder: ${NUL_PROBLEM}`);
    });

    it('/amie: path and query are checked; the JSON body of POST is left to per-record validation', async () => {
      const site = await t.http.post('/admin/sites').set('X-Auth-Token', ADMIN_TOKEN).send({ name: 'site-n' }).expect(201);
      const headers = { 'XA-SITE': 'site-n', 'XA-API-KEY': site.body.api_key };
      const path = await t.http.delete('/amie/usage/failed/1%002').set(headers).expect(400);
      expect(path.body).toEqual({ error: `ids: ${NUL_PROBLEM}`, fields: { ids: NUL_PROBLEM } });
      const query = await t.http.get('/amie/usage/status?FromTime=2024%00').set(headers).expect(400);
      expect(query.body.error).toBe(`FromTime: ${NUL_PROBLEM}`);
      // Not refused as a whole by the guard: the AMIE route fails that one record (its own tests hold that).
      const body = await t.http
        .post('/amie/usage')
        .set(headers)
        .send({ UsageType: 'compute', Records: [{ Username: 'j\u0000' }] });
      expect(JSON.stringify(body.body)).not.toContain(NUL_PROBLEM);
    });

    it('a NUL in a header is refused by the HTTP parser: 400, never a lookup', async () => {
      // Node's parser refuses it before Fastify sees the request (the clientError path).
      const { status } = await rawRequest(t, `GET /amie/usage/status HTTP/1.1\r\nHost: x\r\nXA-Site: a\u0000b\r\nXA-API-Key: k\r\n\r\n`);
      expect(status).toBe(400);
    });
  });

  describe('deeply nested JSON', () => {
    const DEPTH_ERROR = 'Request body nests arrays or objects deeper than 64 levels';
    /** `{"<key>": [[…"x"…]]}`: the object counts as one level. */
    const nested = (key: string, levels: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ ...extra, [key]: 0 }).replace('0', '['.repeat(levels - 1) + '"x"' + ']'.repeat(levels - 1));

    it.each([
      ['/admin/tokens', 'name'],
      ['/admin/sites', 'name'],
    ])('POST %s: 5,000 levels is a 400 before any handler; 64 levels reaches the DTO', async (url, key) => {
      const deep = await t.http.post(url).set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send(nested(key, 5000));
      expect(deep.status).toBe(400);
      expect(deep.body).toEqual({ error: DEPTH_ERROR });
      const limit = await t.http.post(url).set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send(nested(key, 64));
      expect(limit.status).toBe(400);
      expect(limit.body.error).toMatch(new RegExp(`^${key}: `));
      const over = await t.http.post(url).set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send(nested(key, 65));
      expect(over.body).toEqual({ error: DEPTH_ERROR });
    });

    it('brackets inside strings are not nesting', async () => {
      const res = await t.http
        .post('/admin/tokens')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: '['.repeat(70) + '\\"{'.repeat(40), role: 'reader' }));
      expect(res.status).toBe(201);
    });

    it('POST /amie/usage: the whole message is a 400 {"error"}', async () => {
      const site = await t.http.post('/admin/sites').set('X-Auth-Token', ADMIN_TOKEN).send({ name: 'site-d' }).expect(201);
      const res = await t.http
        .post('/amie/usage')
        .set({ 'XA-SITE': 'site-d', 'XA-API-KEY': site.body.api_key, 'Content-Type': 'application/json' })
        .send(nested('Records', 5000, { UsageType: 'compute' }));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: DEPTH_ERROR });
    });

    it('astakos bulk resolve: a Synnefo badRequest, whatever the content type', async () => {
      for (const type of ['application/json', 'text/plain']) {
        const res = await t.http
          .post('/astakos/account/v1.0/commissions/action')
          .set('X-Auth-Token', ADMIN_TOKEN)
          .set('Content-Type', type)
          .send(nested('accept', 5000));
        expect([type, res.status]).toEqual([type, 400]);
        expect(res.body).toEqual({ badRequest: { code: 400, message: DEPTH_ERROR, details: '' } });
      }
    });

    it('Almanach keeps its wording', async () => {
      const token = await t.token('service');
      const res = await t.http.post('/v1/project/p1/instance').set('X-Auth-Token', token).set('Content-Type', 'application/json').send(nested('id', 5000));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Invalid parameter or payload' });
    });
  });
});

/** Sends raw bytes on a new connection; resolves with the status line's code and the raw answer. */
async function rawRequest(t: { app: { getHttpServer(): import('node:http').Server } }, text: string): Promise<{ status: number; raw: string }> {
  const { connect } = await import('node:net');
  const server = t.app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (raw += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), raw }));
  });
}
