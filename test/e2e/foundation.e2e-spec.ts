import { ADMIN_TOKEN, startTestApp, useTestApp } from '../support/test-app';

describe('service foundation', () => {

  const t = useTestApp();

  describe('GET /health', () => {
    it('answers 200 naming each dependency when the database answers', async () => {
      const res = await t.http.get('/health').expect(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.checks.database).toBe('up');
      expect(res.body.checks.redis).toBe(t.runtime.queue.redis ? 'up' : 'not configured');
    });
  });

  describe('GET /health with the database gone', () => {
    it('answers 503 naming the database', async () => {
      const own = await startTestApp();
      try {
        await own.runtime.database.close();
        const res = await own.http.get('/health').expect(503);
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.body).toMatchObject({ status: 'down', error: 'database not answering', checks: { database: 'down' } });
      } finally {
        await own.close();
      }
    });
  });

  describe('the database', () => {
    it('offers btree_gist, which exclusion constraints over (text, range) need (price items, reports.md 4.1), embedded too', async () => {
      // One connection: the temporary table lives in its session.
      const db = t.runtime.dataSource.createQueryRunner();
      await db.connect();
      await db.query('CREATE EXTENSION IF NOT EXISTS btree_gist');
      await db.query('CREATE TEMP TABLE gist_probe (list text, valid tstzrange, EXCLUDE USING gist (list WITH =, valid WITH &&))');
      try {
        await db.query(`INSERT INTO gist_probe VALUES ('a', tstzrange('2025-01-01', '2025-02-01')), ('a', tstzrange('2025-02-01', '2025-03-01'))`);
        await expect(db.query(`INSERT INTO gist_probe VALUES ('a', tstzrange('2025-01-15', '2025-01-16'))`)).rejects.toMatchObject({ code: '23P01' });
      } finally {
        await db.query('DROP TABLE gist_probe');
        await db.release();
      }
    });
  });

  describe('unknown paths and methods', () => {
    it('answers 404 with a JSON error for an unknown path', async () => {
      const res = await t.http.get('/no/such/path').expect(404);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toEqual({ error: 'No route for GET /no/such/path' });
    });

    it('answers 405 with Allow for a known path asked with another method', async () => {
      const res = await t.http.post('/health').expect(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.body.error).toMatch(/POST is not allowed/);
    });

    it('routes a trailing slash to the same handler without a redirect', async () => {
      await t.http.get('/health/').expect(200);
    });

    it('echoes a request id header', async () => {
      const res = await t.http.get('/health').set('X-Request-Id', 'abc-123').expect(200);
      expect(res.headers['x-request-id']).toBe('abc-123');
    });
  });

  describe('body parsing on the admin mount', () => {
    it('answers 400 for malformed JSON', async () => {
      const res = await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send('{"name":');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Request body is not valid JSON' });
    });

    it('answers 400 for JSON that is not UTF-8', async () => {
      const bytes = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('","role":"admin"}')]);
      const res = await t.http
        .post('/admin/tokens')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .set('Content-Type', 'application/json')
        // As bytes: superagent would write a Buffer as JSON.
        .serialize((b: unknown) => b as string)
        .send(bytes);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { error: 'Request body is not valid UTF-8' } });
    });

    it('refuses prototype poisoning', async () => {
      const res = await t.http
        .post('/admin/tokens')
        .set('X-Auth-Token', ADMIN_TOKEN)
        .set('Content-Type', 'application/json')
        .send('{"name":"x","role":"admin","__proto__":{"polluted":true}}');
      expect(res.status).toBe(400);
    });

    it('answers 415 for a form-encoded body', async () => {
      const res = await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).type('form').send('name=x&role=admin');
      expect(res.status).toBe(415);
      expect(res.body.error).toMatch(/application\/x-www-form-urlencoded/);
    });

    it('answers 415 for a text body', async () => {
      const res = await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'text/plain').send('hello');
      expect(res.status).toBe(415);
    });

    it('answers 413 above 1 MiB and reads exactly 1 MiB', async () => {
      const big = JSON.stringify({ name: 'x'.repeat(1048576) });
      const res = await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send(big);
      expect(res.status).toBe(413);
      expect(res.body.error).toMatch(/1048576/);
      const exact = JSON.stringify({ name: 'x', role: 'reader', project_ids: [] }).padEnd(1048576, ' ');
      expect(Buffer.byteLength(exact)).toBe(1048576);
      await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send(exact).expect(201);
    });
  });

  describe('GET /docs', () => {
    it('serves the OpenAPI document generated from the code', async () => {
      const res = await t.http.get('/docs').expect(200);
      expect(res.body.openapi).toMatch(/^3\./);
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/admin/tokens', '/v1/info', '/health']));
    });
  });
});
