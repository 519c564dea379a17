import { Agent, get as httpGet, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { ADMIN_TOKEN, TestApp, useTestApp } from '../support/test-app';

/**
 * Issue 8 item 2: bad input is a 4xx on every mount, in the mount's error
 * shape, before any handler (or credential lookup) runs.
 */
describe('hardening: bad input is a 4xx', () => {
  const t = useTestApp();
  const NUL_PROBLEM = 'must not contain a NUL character (\\u0000)';

  describe("the router's own errors, in the mount's shape", () => {
    it('a path that is not valid percent-encoding: 400 in each mount\'s shape', async () => {
      const almanach = await t.http.get('/v1/entity/%zz').expect(400);
      expect(almanach.body).toEqual({ error: 'The request path is not valid percent-encoding' });
      const astakos = await t.http.get('/astakos/account/v1.0/commissions/%FF').expect(400);
      expect(astakos.body).toEqual({ badRequest: { code: 400, message: 'The request path is not valid percent-encoding', details: '' } });
      const admin = await t.http.delete('/admin/quotas/resources/%').set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      expect(admin.body).toEqual({ error: 'The request path is not valid percent-encoding' });
    });

    it('a path parameter over 1024 characters: 414 in the mount\'s shape', async () => {
      const long = 'x'.repeat(1100);
      const admin = await t.http.delete(`/admin/quotas/resources/${long}`).set('X-Auth-Token', ADMIN_TOKEN).expect(414);
      expect(admin.body).toEqual({ error: 'A path parameter is longer than 1024 characters' });
      const allocations = await t.http.get(`/allocations/v1/allocations/${long}`).expect(414);
      expect(allocations.body).toEqual({ error: 'A path parameter is longer than 1024 characters' });
    });
  });

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
      // The AMIE shape is {"error"} alone, and the route names its path parameter FailedRecordIDs.
      expect(path.body).toEqual({ error: `FailedRecordIDs: ${NUL_PROBLEM}` });
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
      const { status, raw } = await rawRequest(t, `GET /amie/usage/status HTTP/1.1\r\nHost: x\r\nXA-Site: a\u0000b\r\nXA-API-Key: k\r\n\r\n`);
      expect(status).toBe(400);
      expect(raw).toMatch(/\r\n\r\n\{"error":"Malformed HTTP request"\}$/);
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
      expect(limit.body.error).toMatch(new RegExp(`^${key} must be `));
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

  describe('answers that close the connection say Connection: close', () => {
    it('400 from the HTTP parser, in the shape of the mount named by the request line', async () => {
      const res = await rawRequest(t, 'GET /astakos/account/v1.0/quotas HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
      expect(res.status).toBe(400);
      expect(res.raw).toMatch(/\r\nConnection: close\r\n/i);
      expect(res.raw).toContain('{"badRequest":{"code":400,"message":"Malformed HTTP request","details":""}}');
      expect(res.closed).toBe(true);
      const garbage = await rawRequest(t, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage.status).toBe(400);
      expect(garbage.raw).toMatch(/\r\nConnection: close\r\n/i);
      expect(garbage.raw).toMatch(/\r\n\r\n\{"error":"Malformed HTTP request"\}$/);
    });

    it('431 for an over-long request line or header', async () => {
      const longLine = await rawRequest(t, `GET /v1/entity/${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(longLine.status).toBe(431);
      expect(longLine.raw).toMatch(/\r\nConnection: close\r\n/i);
      expect(longLine.raw).toMatch(/\{"error":"Request header fields are too large"\}$/);
      const longHeader = await rawRequest(t, `GET /health HTTP/1.1\r\nHost: x\r\nX-Long: ${'y'.repeat(20_000)}\r\n\r\n`);
      expect(longHeader.status).toBe(431);
      expect(longHeader.raw).toMatch(/\r\nConnection: close\r\n/i);
      expect(longHeader.closed).toBe(true);
    });

    it('413 for a body over 1 MiB, announced or sent', async () => {
      const announced = await rawRequest(
        t,
        `POST /admin/tokens HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{"name":"`,
      );
      expect(announced.status).toBe(413);
      expect(announced.raw).toMatch(/\r\nConnection: close\r\n/i);
      expect(announced.closed).toBe(true);
      const chunked = await rawRequest(
        t,
        `POST /admin/tokens HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `${(1_100_000).toString(16)}\r\n${'x'.repeat(1_100_000)}\r\n0\r\n\r\n`,
      );
      expect(chunked.status).toBe(413);
      expect(chunked.raw).toMatch(/\r\nConnection: close\r\n/i);
    });

    it('a keep-alive client sends its next request on a new connection, which works', async () => {
      const port = await listeningPort(t);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await agentGet(agent, port, '/health');
        expect(first.status).toBe(200);
        const reused = await agentGet(agent, port, '/health');
        expect(reused).toMatchObject({ status: 200, reused: true }); // the agent does keep connections
        const refused = await agentGet(agent, port, '/health', { 'X-Long': 'y'.repeat(20_000) });
        expect(refused.status).toBe(431);
        expect(refused.headers.connection).toBe('close');
        const next = await agentGet(agent, port, '/health');
        expect(next).toMatchObject({ status: 200, reused: false });
        const tooLarge = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port, path: '/admin/tokens', method: 'POST', agent, headers: { 'X-Auth-Token': ADMIN_TOKEN, 'Content-Type': 'application/json' } },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ name: 'x'.repeat(1_100_000) }));
        });
        expect(tooLarge).toEqual({ status: 413, connection: 'close' });
        const afterTooLarge = await agentGet(agent, port, '/health');
        expect(afterTooLarge).toMatchObject({ status: 200, reused: false });
      } finally {
        agent.destroy();
      }
    });
  });
});

/** Sends raw bytes on a new connection; resolves once the server closes it (or after 5 s) with the answer. */
async function rawRequest(t: TestApp, text: string): Promise<{ status: number; raw: string; closed: boolean }> {
  const port = await listeningPort(t);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let raw = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: statusOf(raw), raw, closed: false });
    }, 5000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (raw += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: statusOf(raw), raw, closed: true });
    });
  });
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

async function listeningPort(t: TestApp): Promise<number> {
  const server = t.app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A GET through a keep-alive agent; says whether the request went out on a reused connection. */
function agentGet(agent: Agent, port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string; reused: boolean }>((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}
