import { useTestApp } from '../support/test-app';

const P = 'project-a';
const OTHER = 'project-b';

describe('Almanach v1', () => {
  let service: string;
  let reader: string;
  let user: string;

  const t = useTestApp();

  beforeEach(async () => {
    service = await t.token('service');
    reader = await t.token('reader');
    user = await t.token('user', { userId: 'u1', projectIds: [P] });
  });

  const as = (token: string) => ({
    get: (url: string) => t.http.get(url).set('X-Auth-Token', token).set('Content-Type', 'application/json'),
    head: (url: string) => t.http.head(url).set('X-Auth-Token', token),
    post: (url: string, body?: unknown) => t.http.post(url).set('X-Auth-Token', token).set('Content-Type', 'application/json').send(body as object),
    put: (url: string, body?: unknown) => t.http.put(url).set('X-Auth-Token', token).set('Content-Type', 'application/json').send(body as object),
    delete: (url: string, body?: unknown) => {
      const req = t.http.delete(url).set('X-Auth-Token', token).set('Content-Type', 'application/json');
      return body === undefined ? req : req.send(body as object);
    },
  });

  const instanceBody = (id: string, createdAt = '2016-01-01T18:30:00.000000Z', extra: Record<string, unknown> = {}) => ({
    id,
    created_at: createdAt,
    name: `name-${id}`,
    flavor: 'm1.small',
    os_distro: 'ubuntu',
    os_version: '14.04',
    os_type: 'linux',
    ...extra,
  });

  async function createInstance(id: string, createdAt?: string, project = P) {
    await as(service).post(`/v1/project/${project}/instance`, instanceBody(id, createdAt)).expect(201);
  }

  async function createVolume(id: string, start = '2016-01-01T18:00:00Z', extra: Record<string, unknown> = {}) {
    await as(service)
      .post(`/v1/project/${P}/volume`, { volume_id: id, start, volume_type: null, size: 10, volume_name: `vol-${id}`, attached_to: [], ...extra })
      .expect(201);
  }

  async function history(id: string) {
    const res = await as(service).get(`/v1/entity/${id}`).expect(200);
    return res.body as Record<string, unknown>[];
  }

  describe('GET /v1/info', () => {
    it('answers without a token with the version and version counts', async () => {
      await createInstance('i1');
      await createInstance('i2');
      await as(service).delete('/v1/instance/i2', { date: '2016-01-02T00:00:00Z' }).expect(202);
      const res = await t.http.get('/v1/info').expect(200);
      expect(res.body).toEqual({ info: { version: expect.any(String) }, database: { all_entities: 2, active_entities: 1 } });
      expect(res.headers['content-length']).toBeDefined();
    });

    it('is also served unprefixed at /info', async () => {
      const res = await t.http.get('/info').expect(200);
      expect(res.body.database).toEqual({ all_entities: 0, active_entities: 0 });
    });
  });

  describe('credentials', () => {
    it('answers 401 without a token', async () => {
      const res = await t.http.get(`/v1/project/${P}/entities?start=2016-01-01+00:00:00.000000`).expect(401);
      expect(res.body).toEqual({ error: 'Unauthorized' });
    });

    it('answers 401 for an unknown token', async () => {
      await t.http.get('/v1/volume_types').set('X-Auth-Token', 'nope').expect(401);
    });

    it('answers 401 for a deleted token at once', async () => {
      const list = await t.http.get('/admin/tokens').set('X-Auth-Token', 'test-admin-token-0123456789abcdef').expect(200);
      const serviceRow = list.body.find((row: { role: string }) => row.role === 'service');
      await t.http.delete(`/admin/tokens/${serviceRow.id}`).set('X-Auth-Token', 'test-admin-token-0123456789abcdef').expect(204);
      await as(service).get('/v1/volume_types').expect(401);
    });

    it('matches the token header case-insensitively', async () => {
      await t.http.get('/v1/volume_types').set('x-auth-token', reader).expect(200);
    });

    it.each([
      ['POST', `/v1/project/${P}/instance`],
      ['DELETE', '/v1/instance/i1'],
      ['PUT', '/v1/instance/i1/resize'],
      ['PUT', '/v1/instance/i1/rebuild'],
      ['POST', `/v1/project/${P}/volume`],
      ['DELETE', '/v1/volume/v1'],
      ['PUT', '/v1/volume/v1/resize'],
      ['PUT', '/v1/volume/v1/attach'],
      ['PUT', '/v1/volume/v1/detach'],
      ['PUT', '/v1/entity/instance/i1'],
      ['POST', '/v1/volume_type'],
      ['DELETE', '/v1/volume_type/t1'],
    ])('refuses %s %s to reader and user tokens with 403', async (method, url) => {
      for (const token of [reader, user]) {
        const res = await t.http[method.toLowerCase() as 'post' | 'put' | 'delete'](url)
          .set('X-Auth-Token', token)
          .set('Content-Type', 'application/json')
          .send({});
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ error: 'Forbidden' });
      }
    });

    it('lets an admin token write', async () => {
      await t.http
        .post(`/v1/project/${P}/instance`)
        .set('X-Auth-Token', 'test-admin-token-0123456789abcdef')
        .send(instanceBody('adm1'))
        .expect(201);
    });

    it('lets a reader read every project', async () => {
      await createInstance('i1', undefined, OTHER);
      const res = await as(reader).get(`/v1/project/${OTHER}/instances?start=2016-01-01+00:00:00.000000`).expect(200);
      expect(res.body).toHaveLength(1);
    });

    it('lets a user list only its own projects', async () => {
      await createInstance('i1');
      await createInstance('i2', undefined, OTHER);
      const own = await as(user).get(`/v1/project/${P}/entities?start=2016-01-01+00:00:00.000000`).expect(200);
      expect(own.body.map((v: { entity_id: string }) => v.entity_id)).toEqual(['i1']);
      for (const route of ['instances', 'volumes', 'entities']) {
        const res = await as(user).get(`/v1/project/${OTHER}/${route}?start=2016-01-01+00:00:00.000000`);
        expect(res.status).toBe(403);
      }
      await as(user).get(`/v1/project/empty-project/entities?start=2016-01-01+00:00:00.000000`).expect(403);
    });

    it('lets a user get and HEAD only entities of its projects, 404 otherwise', async () => {
      await createInstance('i1');
      await createInstance('i2', undefined, OTHER);
      await as(user).get('/v1/entity/i1').expect(200);
      await as(user).head('/v1/entity/i1').expect(200);
      const hidden = await as(user).get('/v1/entity/i2').expect(404);
      expect(hidden.body).toEqual({ error: 'Entity not found' });
      await as(user).head('/v1/entity/i2').expect(404);
    });

    it('gives a user only the versions of its own projects when an entity moved project', async () => {
      await createInstance('moved', '2016-01-01T00:00:00Z', OTHER);
      await as(service).delete('/v1/instance/moved', { date: '2016-01-02T00:00:00Z' }).expect(202);
      await createInstance('moved', '2016-01-03T00:00:00Z', P);
      const res = await as(user).get('/v1/entity/moved').expect(200);
      expect(res.body.map((v: { project_id: string }) => v.project_id)).toEqual([P]);
      const all = await as(reader).get('/v1/entity/moved').expect(200);
      expect(all.body).toHaveLength(2);
    });

    it('lets a user read volume types', async () => {
      await as(service).post('/v1/volume_type', { type_id: 't1', type_name: 'ssd' }).expect(201);
      await as(user).get('/v1/volume_types').expect(200);
      await as(user).get('/v1/volume_type/t1').expect(200);
    });
  });

  describe('POST /v1/project/{project_id}/instance', () => {
    it('opens a version with the instance fields and answers 201 with an empty body', async () => {
      const res = await as(service).post(`/v1/project/${P}/instance`, instanceBody('i1')).expect(201);
      expect(res.text).toBe('');
      expect(res.headers['content-length']).toBe('0');
      const [v] = await history('i1');
      expect(v).toEqual({
        entity_id: 'i1',
        entity_type: 'instance',
        project_id: P,
        start: '2016-01-01 18:30:00+00:00',
        end: null,
        last_event: '2016-01-01 18:30:00+00:00',
        name: 'name-i1',
        flavor: 'm1.small',
        image_meta: { distro: 'ubuntu', version: '14.04', os_type: 'linux' },
        os: { distro: 'ubuntu', version: '14.04', os_type: 'linux' },
        metadata: {},
        processed: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/),
      });
    });

    it('accepts null os fields and drops them from image_meta', async () => {
      await as(service)
        .post(`/v1/project/${P}/instance`, instanceBody('i1', undefined, { os_distro: null, os_version: null, os_type: null, name: null, flavor: null }))
        .expect(201);
      const [v] = await history('i1');
      expect(v.image_meta).toEqual({});
      expect(v.name).toBeNull();
      expect(v.flavor).toBeNull();
    });

    it('is served unprefixed too', async () => {
      await t.http.post(`/project/${P}/instance`).set('X-Auth-Token', service).send(instanceBody('i1')).expect(201);
      await t.http.get('/entity/i1').set('X-Auth-Token', service).expect(200);
    });

    it('ignores unknown extra keys', async () => {
      await as(service).post(`/v1/project/${P}/instance`, instanceBody('i1', undefined, { project_id: 'x', extra: 1 })).expect(201);
    });

    it.each(['id', 'created_at', 'name', 'flavor', 'os_distro', 'os_version', 'os_type'])('answers 400 naming a missing %s', async (key) => {
      const body: Record<string, unknown> = instanceBody('i1');
      delete body[key];
      const res = await as(service).post(`/v1/project/${P}/instance`, body).expect(400);
      expect(res.body).toEqual({ error: `The '${key}' param is mandatory for the request you have made.` });
    });

    it('reports the first missing key in check order', async () => {
      const res = await as(service).post(`/v1/project/${P}/instance`, { name: 'x' }).expect(400);
      expect(res.body.error).toBe("The 'id' param is mandatory for the request you have made.");
    });

    it.each([
      ['id', 5],
      ['name', 5],
      ['flavor', ['x']],
      ['os_type', {}],
    ])('answers 400 Invalid parameter or payload for a %s of the wrong type', async (key, value) => {
      const res = await as(service).post(`/v1/project/${P}/instance`, { ...instanceBody('i1'), [key]: value }).expect(400);
      expect(res.body).toEqual({ error: 'Invalid parameter or payload' });
    });

    it.each(['not a date', '', '2016-13-01T00:00:00Z', '2016-02-30T00:00:00Z', '2016-01-01T25:00:00Z'])('answers 400 for the body date %p', async (date) => {
      const res = await as(service).post(`/v1/project/${P}/instance`, instanceBody('i1', date)).expect(400);
      expect(res.body.error).toMatch(/^The provided date has an invalid format/);
    });

    it('answers 400 for a non-string date', async () => {
      const res = await as(service).post(`/v1/project/${P}/instance`, { ...instanceBody('i1'), created_at: 12 }).expect(400);
      expect(res.body.error).toMatch(/^The provided date has an invalid format/);
    });

    it.each([
      ['2016-01-01T18:30:00.000000Z', '2016-01-01 18:30:00+00:00'],
      ['2016-01-01T18:30:00Z', '2016-01-01 18:30:00+00:00'],
      ['2016-04-14T18:30:00.00Z', '2016-04-14 18:30:00+00:00'],
      ['2016-11-24 15:15:05+00:00', '2016-11-24 15:15:05+00:00'],
      ['2017-02-05T11:34:36.000000', '2017-02-05 11:34:36+00:00'],
      ['2016-01-01T20:30:00+02:00', '2016-01-01 18:30:00+00:00'],
      ['2016-01-01T20:30:00+0200', '2016-01-01 18:30:00+00:00'],
      ['2016-01-01T16:30:00-02:00', '2016-01-01 18:30:00+00:00'],
      ['2016-01-01', '2016-01-01 00:00:00+00:00'],
      ['2016-11-24T21:16:47.106Z', '2016-11-24 21:16:47.106000+00:00'],
      ['2016-11-24T21:16:47.123456789Z', '2016-11-24 21:16:47.123456+00:00'],
      ['2016-02-29T00:00:00Z', '2016-02-29 00:00:00+00:00'],
    ])('parses the body date %p and emits %p, keeping microseconds', async (input, output) => {
      await as(service).post(`/v1/project/${P}/instance`, instanceBody('i1', input)).expect(201);
      const [v] = await history('i1');
      expect(v.start).toBe(output);
    });

    it('answers 400 for a missing, non-JSON or non-object body', async () => {
      await as(service).post(`/v1/project/${P}/instance`).expect(400);
      const text = await t.http.post(`/v1/project/${P}/instance`).set('X-Auth-Token', service).set('Content-Type', 'application/json').send('{oops');
      expect(text.status).toBe(400);
      expect(text.body).toEqual({ error: 'Invalid parameter or payload' });
      const array = await as(service).post(`/v1/project/${P}/instance`, [1, 2]).expect(400);
      expect(array.body).toEqual({ error: 'Invalid parameter or payload' });
      const form = await t.http.post(`/v1/project/${P}/instance`).set('X-Auth-Token', service).type('form').send('id=x');
      expect(form.status).toBe(400);
      expect(form.body).toEqual({ error: 'Invalid parameter or payload' });
    });

    it('is idempotent for a re-delivered create of the same project and type', async () => {
      await createInstance('i1');
      await createInstance('i1', '2016-01-05T00:00:00Z');
      expect(await history('i1')).toHaveLength(1);
    });

    it('answers 409 when the open version belongs to another project or type', async () => {
      await createInstance('i1');
      const other = await as(service).post(`/v1/project/${OTHER}/instance`, instanceBody('i1')).expect(409);
      expect(other.body.error).toMatch(/i1/);
      const volume = await as(service)
        .post(`/v1/project/${P}/volume`, { volume_id: 'i1', start: '2016-01-01T00:00:00Z', volume_type: null, size: 1, volume_name: null, attached_to: [] })
        .expect(409);
      expect(volume.body.error).toMatch(/i1/);
      expect(await history('i1')).toHaveLength(1);
    });

    it('re-creates a deleted entity after its end, and refuses a start before that end with 409', async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
      await as(service).delete('/v1/instance/i1', { date: '2016-01-02T00:00:00Z' }).expect(202);
      const refused = await as(service).post(`/v1/project/${P}/instance`, instanceBody('i1', '2016-01-01T12:00:00Z')).expect(409);
      expect(JSON.stringify(refused.body)).toContain('before its previous end 2016-01-02');
      await createInstance('i1', '2016-01-03T00:00:00Z');
      // A start exactly at the previous end is no overlap.
      await createInstance('i2', '2016-01-01T00:00:00Z');
      await as(service).delete('/v1/instance/i2', { date: '2016-01-02T00:00:00Z' }).expect(202);
      await createInstance('i2', '2016-01-02T00:00:00Z');
      expect(await history('i2')).toHaveLength(2);
      const versions = await history('i1');
      expect(versions.map((v) => [v.start, v.end])).toEqual([
        ['2016-01-01 00:00:00+00:00', '2016-01-02 00:00:00+00:00'],
        ['2016-01-03 00:00:00+00:00', null],
      ]);
    });
  });

  describe('DELETE /v1/instance/{instance_id}', () => {
    it('closes the open version at the date and answers 202 with an empty body', async () => {
      await createInstance('i1');
      const res = await as(service).delete('/v1/instance/i1', { date: '2016-01-02T10:00:00.123456Z' }).expect(202);
      expect(res.text).toBe('');
      const [v] = await history('i1');
      expect(v.end).toBe('2016-01-02 10:00:00.123456+00:00');
      expect(v.last_event).toBe('2016-01-02 10:00:00.123456+00:00');
    });

    it('answers 404 for an unknown or already deleted instance', async () => {
      const res = await as(service).delete('/v1/instance/nope', { date: '2016-01-02T00:00:00Z' }).expect(404);
      expect(res.body.error).toMatch(/nope/);
      await createInstance('i1');
      await as(service).delete('/v1/instance/i1', { date: '2016-01-02T00:00:00Z' }).expect(202);
      await as(service).delete('/v1/instance/i1', { date: '2016-01-03T00:00:00Z' }).expect(404);
    });

    it('answers 404 when the id is a volume', async () => {
      await createVolume('v1');
      await as(service).delete('/v1/instance/v1', { date: '2016-01-02T00:00:00Z' }).expect(404);
    });

    it('answers 400 for a missing body, {} or a bad date', async () => {
      await createInstance('i1');
      const none = await as(service).delete('/v1/instance/i1').expect(400);
      expect(none.body).toEqual({ error: 'Invalid parameter or payload' });
      const empty = await as(service).delete('/v1/instance/i1', {}).expect(400);
      expect(empty.body.error).toBe("The 'date' param is mandatory for the request you have made.");
      const bad = await as(service).delete('/v1/instance/i1', { date: 'yesterday' }).expect(400);
      expect(bad.body.error).toMatch(/invalid format/);
    });

    it('refuses a date before the version start with 400 and changes nothing', async () => {
      await createInstance('i1', '2016-01-02T00:00:00Z');
      const res = await as(service).delete('/v1/instance/i1', { date: '2016-01-01T00:00:00Z' }).expect(400);
      expect(res.body.error).toMatch(/2016-01-01 00:00:00\+00:00.*2016-01-02 00:00:00\+00:00/);
      expect((await history('i1'))[0].end).toBeNull();
    });
  });

  describe('PUT /v1/instance/{instance_id}/resize', () => {
    it('closes the open version and opens one with the new flavor, copying the rest', async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
      await as(service).put('/v1/entity/instance/i1', { metadata: { a: '1' } }).expect(200);
      const res = await as(service).put('/v1/instance/i1/resize', { date: '2016-01-02T00:00:00Z', flavor: 'm1.large' }).expect(200);
      expect(res.text).toBe('');
      const versions = await history('i1');
      expect(versions).toHaveLength(2);
      expect(versions[0]).toMatchObject({ flavor: 'm1.small', end: '2016-01-02 00:00:00+00:00' });
      expect(versions[1]).toMatchObject({
        flavor: 'm1.large',
        start: '2016-01-02 00:00:00+00:00',
        last_event: '2016-01-02 00:00:00+00:00',
        end: null,
        name: 'name-i1',
        metadata: { a: '1' },
        image_meta: { distro: 'ubuntu', version: '14.04', os_type: 'linux' },
      });
    });

    it('changes nothing for the same flavor', async () => {
      await createInstance('i1');
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-02T00:00:00Z', flavor: 'm1.small' }).expect(200);
      expect(await history('i1')).toHaveLength(1);
    });

    it('checks date then flavor', async () => {
      await createInstance('i1');
      const a = await as(service).put('/v1/instance/i1/resize', {}).expect(400);
      expect(a.body.error).toBe("The 'date' param is mandatory for the request you have made.");
      const b = await as(service).put('/v1/instance/i1/resize', { date: '2016-01-02T00:00:00Z' }).expect(400);
      expect(b.body.error).toBe("The 'flavor' param is mandatory for the request you have made.");
    });

    it('answers 404 without an open version and 400 for an earlier date', async () => {
      await as(service).put('/v1/instance/nope/resize', { date: '2016-01-02T00:00:00Z', flavor: 'x' }).expect(404);
      await createInstance('i1', '2016-01-02T00:00:00Z');
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-01T00:00:00Z', flavor: 'x' }).expect(400);
      expect(await history('i1')).toHaveLength(1);
    });

    it('applies an event dated before last_event but not before start', async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
      await as(service).put('/v1/entity/instance/i1', { name: 'renamed' }).expect(200);
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-03T00:00:00Z', flavor: 'b' }).expect(200);
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-03T00:00:00Z', flavor: 'c' }).expect(200);
      const versions = await history('i1');
      expect(versions.map((v) => v.flavor)).toEqual(['m1.small', 'b', 'c']);
    });
  });

  describe('PUT /v1/instance/{instance_id}/rebuild', () => {
    it('opens a new version with the new image data', async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
      await as(service)
        .put('/v1/instance/i1/rebuild', { rebuild_date: '2016-01-02T00:00:00Z', distro: 'centos', version: '7', os_type: 'linux' })
        .expect(200);
      const versions = await history('i1');
      expect(versions).toHaveLength(2);
      expect(versions[1].image_meta).toEqual({ distro: 'centos', version: '7', os_type: 'linux' });
      expect(versions[1].os).toEqual(versions[1].image_meta);
      expect(versions[0].end).toBe('2016-01-02 00:00:00+00:00');
    });

    it('changes nothing for the same image data', async () => {
      await createInstance('i1');
      await as(service)
        .put('/v1/instance/i1/rebuild', { rebuild_date: '2016-01-02T00:00:00Z', distro: 'ubuntu', version: '14.04', os_type: 'linux' })
        .expect(200);
      expect(await history('i1')).toHaveLength(1);
    });

    it('checks rebuild_date, distro, version, os_type in order', async () => {
      await createInstance('i1');
      const full = { rebuild_date: '2016-01-02T00:00:00Z', distro: 'a', version: 'b', os_type: 'c' };
      for (const key of ['rebuild_date', 'distro', 'version', 'os_type']) {
        const body: Record<string, unknown> = { ...full };
        for (const later of Object.keys(full).slice(Object.keys(full).indexOf(key))) delete body[later];
        const res = await as(service).put('/v1/instance/i1/rebuild', body).expect(400);
        expect(res.body.error).toBe(`The '${key}' param is mandatory for the request you have made.`);
      }
    });

    it('answers 404 for an unknown instance', async () => {
      await as(service).put('/v1/instance/nope/rebuild', { rebuild_date: '2016-01-02T00:00:00Z', distro: null, version: null, os_type: null }).expect(404);
    });
  });

  describe('GET /v1/project/{project_id}/instances, /volumes, /entities', () => {
    beforeEach(async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-10T00:00:00Z', flavor: 'big' }).expect(200);
      await createVolume('v1', '2016-01-05T00:00:00Z');
      await createInstance('old', '2015-01-01T00:00:00Z');
      await as(service).delete('/v1/instance/old', { date: '2015-12-31T23:59:59Z' }).expect(202);
    });

    it('lists every version overlapping the window, both bounds inclusive, sorted by start', async () => {
      const res = await as(service).get(`/v1/project/${P}/entities?start=2016-01-01+00:00:00.000000&end=2016-01-10+00:00:00.000000`).expect(200);
      expect(res.body.map((v: { entity_id: string; start: string }) => [v.entity_id, v.start])).toEqual([
        ['i1', '2016-01-01 00:00:00+00:00'],
        ['v1', '2016-01-05 00:00:00+00:00'],
        ['i1', '2016-01-10 00:00:00+00:00'],
      ]);
    });

    it('includes a version that ended exactly at start', async () => {
      const res = await as(service).get(`/v1/project/${P}/instances?start=2015-12-31+23:59:59.000000&end=2015-12-31+23:59:59.000000`).expect(200);
      expect(res.body.map((v: { entity_id: string }) => v.entity_id)).toEqual(['old']);
    });

    it('filters by type', async () => {
      const instances = await as(service).get(`/v1/project/${P}/instances?start=2016-01-01+00:00:00.000000&end=2016-02-01+00:00:00.000000`).expect(200);
      expect(new Set(instances.body.map((v: { entity_type: string }) => v.entity_type))).toEqual(new Set(['instance']));
      expect(instances.body).toHaveLength(2);
      const volumes = await as(service).get(`/v1/project/${P}/volumes?start=2016-01-01+00:00:00.000000&end=2016-02-01+00:00:00.000000`).expect(200);
      expect(volumes.body).toHaveLength(1);
      expect(volumes.body[0]).toEqual({
        entity_id: 'v1',
        entity_type: 'volume',
        project_id: P,
        start: '2016-01-05 00:00:00+00:00',
        end: null,
        last_event: '2016-01-05 00:00:00+00:00',
        processed: expect.any(String),
        name: 'vol-v1',
        volume_type: null,
        size: 10,
        attached_to: [],
      });
    });

    it('defaults end to now', async () => {
      const res = await as(service).get(`/v1/project/${P}/entities?start=2016-01-20+00:00:00.000000`).expect(200);
      expect(res.body.map((v: { entity_id: string }) => v.entity_id)).toEqual(['v1', 'i1']);
    });

    it('accepts %20 and body-style dates in the query', async () => {
      await as(service).get(`/v1/project/${P}/entities?start=2016-01-01%2000:00:00.000000&end=2016-01-02T00:00:00Z`).expect(200);
      await as(service).get(`/v1/project/${P}/entities?start=2016-01-01%2000:00:00`).expect(200);
    });

    it('answers 200 [] for an unknown project', async () => {
      const res = await as(service).get('/v1/project/nobody/entities?start=2016-01-01+00:00:00.000000').expect(200);
      expect(res.body).toEqual([]);
    });

    it('answers 400 naming a missing start, 400 for a bad date, and 400 for end before start', async () => {
      const missing = await as(service).get(`/v1/project/${P}/instances`).expect(400);
      expect(missing.body.error).toBe("The 'start' param is mandatory for the request you have made.");
      const bad = await as(service).get(`/v1/project/${P}/instances?start=yesterday`).expect(400);
      expect(bad.body).toEqual({ error: 'Invalid parameter or payload' });
      const badEnd = await as(service).get(`/v1/project/${P}/instances?start=2016-01-01+00:00:00.0&end=x`).expect(400);
      expect(badEnd.body).toEqual({ error: 'Invalid parameter or payload' });
      const reversed = await as(service).get(`/v1/project/${P}/volumes?start=2016-02-01+00:00:00.0&end=2016-01-01+00:00:00.0`).expect(400);
      expect(reversed.body.error).toMatch(/earlier than/);
    });

    it('answers JSON with Content-Length', async () => {
      const res = await as(reader).get(`/v1/project/${P}/entities?start=2016-01-01+00:00:00.000000`).expect(200);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    });
  });

  describe('POST /v1/project/{project_id}/volume', () => {
    beforeEach(async () => {
      await as(service).post('/v1/volume_type', { type_id: 'type-1', type_name: 'ssd' }).expect(201);
    });

    it('stores the volume type name, a string size as an integer and the attachments', async () => {
      await as(service)
        .post(`/v1/project/${P}/volume`, { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: 'type-1', size: '20', volume_name: 'data', attached_to: ['i1'] })
        .expect(201);
      const [v] = await history('v1');
      expect(v).toMatchObject({ volume_type: 'ssd', size: 20, name: 'data', attached_to: ['i1'] });
    });

    it.each([
      [undefined, []],
      [null, []],
      ['', []],
      ['i9', ['i9']],
    ])('takes attached_to %p as %p', async (attached, expected) => {
      const body: Record<string, unknown> = { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: null, size: 1, volume_name: null };
      if (attached !== undefined) body.attached_to = attached;
      await as(service).post(`/v1/project/${P}/volume`, body).expect(201);
      expect((await history('v1'))[0].attached_to).toEqual(expected);
    });

    it('answers 404 for an unknown volume type', async () => {
      const res = await as(service)
        .post(`/v1/project/${P}/volume`, { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: 'nope', size: 1, volume_name: null })
        .expect(404);
      expect(res.body).toEqual({ error: 'Unable to find volume_type_id "nope"' });
    });

    it.each([-1, '1.5', 'ten', 1.5, null])('answers 400 for the size %p', async (size) => {
      const res = await as(service)
        .post(`/v1/project/${P}/volume`, { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: null, size, volume_name: null })
        .expect(400);
      expect(res.body).toEqual({ error: 'Invalid parameter or payload' });
    });

    it('checks volume_id, start, volume_type, size, volume_name in order', async () => {
      const full = { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: null, size: 1, volume_name: null };
      const keys = Object.keys(full);
      for (const [i, key] of keys.entries()) {
        const body = Object.fromEntries(keys.slice(0, i).map((k) => [k, full[k as keyof typeof full]]));
        const res = await as(service).post(`/v1/project/${P}/volume`, body).expect(400);
        expect(res.body.error).toBe(`The '${key}' param is mandatory for the request you have made.`);
      }
    });

    it('answers 400 for attached_to that is not a list of strings', async () => {
      await as(service)
        .post(`/v1/project/${P}/volume`, { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: null, size: 1, volume_name: null, attached_to: [1] })
        .expect(400);
    });

    it('keeps the stored type name after the type is deleted', async () => {
      await as(service)
        .post(`/v1/project/${P}/volume`, { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: 'type-1', size: 1, volume_name: null })
        .expect(201);
      await as(service).delete('/v1/volume_type/type-1').expect(202);
      expect((await history('v1'))[0].volume_type).toBe('ssd');
    });
  });

  describe('DELETE /v1/volume/{volume_id}', () => {
    it('closes the only version even within 60 s', async () => {
      await createVolume('v1', '2016-01-01T00:00:00Z');
      await as(service).delete('/v1/volume/v1', { date: '2016-01-01T00:00:10Z' }).expect(202);
      const versions = await history('v1');
      expect(versions).toHaveLength(1);
      expect(versions[0].end).toBe('2016-01-01 00:00:10+00:00');
    });

    it('removes an open version younger than 60 s when an earlier one exists', async () => {
      await createVolume('v1', '2016-01-01T00:00:00Z');
      await as(service).put('/v1/volume/v1/resize', { size: 20, date: '2016-01-01T01:00:00Z' }).expect(200);
      await as(service).delete('/v1/volume/v1', { date: '2016-01-01T01:00:59Z' }).expect(202);
      const versions = await history('v1');
      expect(versions).toHaveLength(1);
      expect(versions[0]).toMatchObject({ size: 10, end: '2016-01-01 01:00:00+00:00' });
    });

    it('closes an older version at the date', async () => {
      await createVolume('v1', '2016-01-01T00:00:00Z');
      await as(service).put('/v1/volume/v1/resize', { size: 20, date: '2016-01-01T01:00:00Z' }).expect(200);
      await as(service).delete('/v1/volume/v1', { date: '2016-01-01T01:01:00Z' }).expect(202);
      const versions = await history('v1');
      expect(versions.map((v) => v.end)).toEqual(['2016-01-01 01:00:00+00:00', '2016-01-01 01:01:00+00:00']);
    });

    it('answers 404 for an unknown volume or an instance id, 400 for bad bodies and early dates', async () => {
      await as(service).delete('/v1/volume/nope', { date: '2016-01-02T00:00:00Z' }).expect(404);
      await createInstance('i1');
      await as(service).delete('/v1/volume/i1', { date: '2016-01-02T00:00:00Z' }).expect(404);
      await createVolume('v1', '2016-01-02T00:00:00Z');
      await as(service).delete('/v1/volume/v1').expect(400);
      await as(service).delete('/v1/volume/v1', {}).expect(400);
      await as(service).delete('/v1/volume/v1', { date: '2016-01-01T00:00:00Z' }).expect(400);
    });
  });

  describe('PUT /v1/volume/{volume_id}/resize', () => {
    it('opens a new version with the new size', async () => {
      await createVolume('v1', '2016-01-01T00:00:00Z');
      await as(service).put('/v1/volume/v1/resize', { size: '30', date: '2016-01-02T00:00:00Z' }).expect(200);
      const versions = await history('v1');
      expect(versions.map((v) => [v.size, v.start, v.end])).toEqual([
        [10, '2016-01-01 00:00:00+00:00', '2016-01-02 00:00:00+00:00'],
        [30, '2016-01-02 00:00:00+00:00', null],
      ]);
    });

    it('changes nothing for the same size', async () => {
      await createVolume('v1');
      await as(service).put('/v1/volume/v1/resize', { size: 10, date: '2016-01-02T00:00:00Z' }).expect(200);
      expect(await history('v1')).toHaveLength(1);
    });

    it('checks size then date, and answers 404 for an unknown volume', async () => {
      await createVolume('v1');
      const a = await as(service).put('/v1/volume/v1/resize', {}).expect(400);
      expect(a.body.error).toBe("The 'size' param is mandatory for the request you have made.");
      const b = await as(service).put('/v1/volume/v1/resize', { size: 1 }).expect(400);
      expect(b.body.error).toBe("The 'date' param is mandatory for the request you have made.");
      await as(service).put('/v1/volume/nope/resize', { size: 1, date: '2016-01-02T00:00:00Z' }).expect(404);
    });
  });

  describe('PUT /v1/volume/{volume_id}/attach and /detach', () => {
    it('follows the reference tempest scenario: three versions', async () => {
      await createVolume('v1', '2016-01-01T18:00:00Z');
      await as(service).put('/v1/volume/v1/attach', { date: '2016-01-01T18:30:00Z', attachments: ['I'] }).expect(200);
      await as(service).put('/v1/volume/v1/detach', { date: '2016-01-01T18:40:00Z', attachments: [] }).expect(200);
      const versions = await history('v1');
      expect(versions.map((v) => [v.start, v.end, v.attached_to])).toEqual([
        ['2016-01-01 18:00:00+00:00', '2016-01-01 18:30:00+00:00', []],
        ['2016-01-01 18:30:00+00:00', '2016-01-01 18:40:00+00:00', ['I']],
        ['2016-01-01 18:40:00+00:00', null, []],
      ]);
    });

    it('updates in place within 60 s of the start', async () => {
      await createVolume('v1', '2016-01-01T18:00:00Z');
      await as(service).put('/v1/volume/v1/attach', { date: '2016-01-01T18:00:30Z', attachments: ['I'] }).expect(200);
      const versions = await history('v1');
      expect(versions).toHaveLength(1);
      expect(versions[0]).toMatchObject({ attached_to: ['I'], last_event: '2016-01-01 18:00:30+00:00' });
    });

    it('updates in place when attaching to a volume that already had attachments', async () => {
      await createVolume('v1', '2016-01-01T18:00:00Z', { attached_to: ['A'] });
      await as(service).put('/v1/volume/v1/attach', { date: '2016-01-02T00:00:00Z', attachments: ['A', 'B'] }).expect(200);
      const versions = await history('v1');
      expect(versions).toHaveLength(1);
      expect(versions[0].attached_to).toEqual(['A', 'B']);
    });

    it('detaches in place while some attachments remain', async () => {
      await createVolume('v1', '2016-01-01T18:00:00Z', { attached_to: ['A', 'B'] });
      await as(service).put('/v1/volume/v1/detach', { date: '2016-01-02T00:00:00Z', attachments: ['B'] }).expect(200);
      expect(await history('v1')).toHaveLength(1);
      expect((await history('v1'))[0].attached_to).toEqual(['B']);
    });

    it('treats attachments: null as none', async () => {
      await createVolume('v1', '2016-01-01T18:00:00Z', { attached_to: ['A'] });
      await as(service).put('/v1/volume/v1/detach', { date: '2016-01-02T00:00:00Z', attachments: null }).expect(200);
      const versions = await history('v1');
      expect(versions).toHaveLength(2);
      expect(versions[1].attached_to).toEqual([]);
    });

    it('checks date then attachments, 404 for unknown, 400 for an early date', async () => {
      await createVolume('v1', '2016-01-02T00:00:00Z');
      for (const action of ['attach', 'detach']) {
        const a = await as(service).put(`/v1/volume/v1/${action}`, {}).expect(400);
        expect(a.body.error).toBe("The 'date' param is mandatory for the request you have made.");
        const b = await as(service).put(`/v1/volume/v1/${action}`, { date: '2016-01-03T00:00:00Z' }).expect(400);
        expect(b.body.error).toBe("The 'attachments' param is mandatory for the request you have made.");
        await as(service).put(`/v1/volume/v1/${action}`, { date: '2016-01-03T00:00:00Z', attachments: 'I' }).expect(400);
        await as(service).put(`/v1/volume/nope/${action}`, { date: '2016-01-03T00:00:00Z', attachments: [] }).expect(404);
        await as(service).put(`/v1/volume/v1/${action}`, { date: '2016-01-01T00:00:00Z', attachments: [] }).expect(400);
      }
    });
  });

  describe('GET and HEAD /v1/entity/{entity_id}', () => {
    it('answers every version as a list, and 404 for an unknown id', async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
      await as(service).delete('/v1/instance/i1', { date: '2016-01-02T00:00:00Z' }).expect(202);
      expect(await history('i1')).toHaveLength(1);
      const res = await as(reader).get('/v1/entity/nope').expect(404);
      expect(res.body).toEqual({ error: 'Entity not found' });
    });

    it('answers HEAD 200 or 404 with an empty body, token required', async () => {
      await createInstance('i1');
      const found = await as(reader).head('/v1/entity/i1').expect(200);
      expect(found.text ?? '').toBe('');
      await as(reader).head('/v1/entity/nope').expect(404);
      await t.http.head('/v1/entity/i1').expect(401);
    });
  });

  describe('PUT /v1/entity/instance/{instance_id}', () => {
    beforeEach(async () => {
      await createInstance('i1', '2016-01-01T00:00:00Z');
    });

    it('updates the open version in place and answers it', async () => {
      const res = await as(service)
        .put('/v1/entity/instance/i1', {
          name: 'new',
          flavor: 'f2',
          os: { distro: 'debian', version: '12', os_type: 'linux' },
          metadata: { 'a.b': 'dotted', nested: { x: 1 } },
        })
        .expect(200);
      expect(res.body).toMatchObject({
        entity_id: 'i1',
        name: 'new',
        flavor: 'f2',
        image_meta: { distro: 'debian', version: '12', os_type: 'linux' },
        os: { distro: 'debian', version: '12', os_type: 'linux' },
        metadata: { 'a.b': 'dotted', nested: { x: 1 } },
        end: null,
      });
      const versions = await history('i1');
      expect(versions).toHaveLength(1);
      expect(versions[0]).toEqual(res.body);
    });

    it('closes the version with end_date and moves the start with start_date', async () => {
      const res = await as(service)
        .put('/v1/entity/instance/i1', { start_date: '2015-12-31T00:00:00.000000Z', end_date: '2016-01-05T00:00:00Z' })
        .expect(200);
      expect(res.body).toMatchObject({ start: '2015-12-31 00:00:00+00:00', end: '2016-01-05 00:00:00+00:00' });
    });

    it('accepts {} and changes nothing', async () => {
      const res = await as(service).put('/v1/entity/instance/i1', {}).expect(200);
      expect(res.body.name).toBe('name-i1');
    });

    it('answers field-keyed 400s for unknown keys, wrong types and incomplete os', async () => {
      const extra = await as(service).put('/v1/entity/instance/i1', { wrong_attribute: 1 }).expect(400);
      expect(extra.body).toEqual({ error: { wrong_attribute: 'extra keys not allowed' } });
      const types = await as(service).put('/v1/entity/instance/i1', { name: 5, metadata: 'x' }).expect(400);
      expect(types.body).toEqual({ error: { name: 'expected str', metadata: 'expected dict' } });
      const os = await as(service).put('/v1/entity/instance/i1', { os: { distro: 'x' } }).expect(400);
      expect(Object.keys(os.body.error)).toEqual(['os']);
      const date = await as(service).put('/v1/entity/instance/i1', { start_date: 'nope' }).expect(400);
      expect(date.body.error.start_date).toMatch(/invalid format/);
      expect((await history('i1'))[0].name).toBe('name-i1');
    });

    it('refuses an end before the start with 400 and writes nothing', async () => {
      const res = await as(service).put('/v1/entity/instance/i1', { end_date: '2015-01-01T00:00:00Z', name: 'changed' }).expect(400);
      expect(res.body.error).toMatch(/earlier than/);
      expect((await history('i1'))[0]).toMatchObject({ end: null, name: 'name-i1' });
    });

    it('answers 404 without an open version, or for a volume', async () => {
      await as(service).put('/v1/entity/instance/nope', { name: 'x' }).expect(404);
      await createVolume('v1');
      await as(service).put('/v1/entity/instance/v1', { name: 'x' }).expect(404);
    });

    it('edits the one closed version inside the query window', async () => {
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-05T00:00:00Z', flavor: 'big' }).expect(200);
      const res = await as(service)
        .put('/v1/entity/instance/i1?start=2016-01-01+00:00:00.000000&end=2016-01-05+00:00:00.000000', { flavor: 'corrected' })
        .expect(200);
      expect(res.body).toMatchObject({ flavor: 'corrected', end: '2016-01-05 00:00:00+00:00' });
      expect((await history('i1')).map((v) => v.flavor)).toEqual(['corrected', 'big']);
    });

    it('answers 400 when the window matches several closed versions, 404 when none', async () => {
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-05T00:00:00Z', flavor: 'big' }).expect(200);
      await as(service).put('/v1/instance/i1/resize', { date: '2016-01-06T00:00:00Z', flavor: 'bigger' }).expect(200);
      const many = await as(service).put('/v1/entity/instance/i1?start=2016-01-01+00:00:00.0&end=2016-01-07+00:00:00.0', { name: 'x' }).expect(400);
      expect(many.body).toEqual({ error: 'Multiple entities found while updating a closed entity' });
      await as(service).put('/v1/entity/instance/i1?start=2017-01-01+00:00:00.0&end=2017-01-07+00:00:00.0', { name: 'x' }).expect(404);
      const noEnd = await as(service).put('/v1/entity/instance/i1?start=2017-01-01+00:00:00.0', { name: 'x' }).expect(400);
      expect(noEnd.body.error).toBe("The 'end' param is mandatory for the request you have made.");
    });
  });

  describe('volume types', () => {
    it('creates, lists, gets and deletes', async () => {
      const created = await as(service).post('/v1/volume_type', { type_id: 't1', type_name: 'ssd' }).expect(201);
      expect(created.text).toBe('');
      await as(service).post('/v1/volume_type', { type_id: 't2', type_name: 'hdd' }).expect(201);
      const list = await as(reader).get('/v1/volume_types').expect(200);
      expect(list.body).toEqual([
        { volume_type_id: 't1', volume_type_name: 'ssd' },
        { volume_type_id: 't2', volume_type_name: 'hdd' },
      ]);
      const one = await as(reader).get('/v1/volume_type/t1').expect(200);
      expect(one.body).toEqual({ volume_type_id: 't1', volume_type_name: 'ssd' });
      await as(service).delete('/v1/volume_type/t1').expect(202);
      const gone = await as(reader).get('/v1/volume_type/t1').expect(404);
      expect(gone.body).toEqual({ error: 'Unable to find volume_type_id "t1"' });
    });

    it('accepts an empty-body DELETE sent with a JSON content type', async () => {
      await as(service).post('/v1/volume_type', { type_id: 't1', type_name: 'ssd' }).expect(201);
      await t.http.delete('/v1/volume_type/t1').set('X-Auth-Token', service).set('Content-Type', 'application/json').set('Content-Length', '0').expect(202);
    });

    it('is idempotent for the same name and answers 409 for another', async () => {
      await as(service).post('/v1/volume_type', { type_id: 't1', type_name: 'ssd' }).expect(201);
      await as(service).post('/v1/volume_type', { type_id: 't1', type_name: 'ssd' }).expect(201);
      const res = await as(service).post('/v1/volume_type', { type_id: 't1', type_name: 'other' }).expect(409);
      expect(res.body.error).toMatch(/t1/);
      expect((await as(reader).get('/v1/volume_types').expect(200)).body).toHaveLength(1);
    });

    it('answers 400 for missing or mistyped keys and 404 deleting an unknown type', async () => {
      const a = await as(service).post('/v1/volume_type', { type_name: 'x' }).expect(400);
      expect(a.body.error).toBe("The 'type_id' param is mandatory for the request you have made.");
      const b = await as(service).post('/v1/volume_type', { type_id: 't' }).expect(400);
      expect(b.body.error).toBe("The 'type_name' param is mandatory for the request you have made.");
      await as(service).post('/v1/volume_type', { type_id: 1, type_name: 'x' }).expect(400);
      await as(service).delete('/v1/volume_type/nope').expect(404);
    });

    it('is served unprefixed too', async () => {
      await t.http.post('/volume_type').set('X-Auth-Token', service).send({ type_id: 't1', type_name: 'ssd' }).expect(201);
      await t.http.get('/volume_types').set('X-Auth-Token', service).expect(200);
      await t.http.get('/volume_type/t1').set('X-Auth-Token', service).expect(200);
    });
  });

  describe('404 and 405 on the Almanach mount', () => {
    it('answers an unknown path under /v1 with 404 JSON', async () => {
      const res = await as(service).get('/v1/nothing').expect(404);
      expect(res.body.error).toBeDefined();
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const res = await as(service).get('/v1/instance/i1/resize').expect(405);
      expect(res.headers.allow).toBe('PUT');
      expect(typeof res.body.error).toBe('string');
    });
  });

  describe('concurrent events on one entity', () => {
    it('keeps exactly one open version when creates and resizes race', async () => {
      await createInstance('race', '2016-01-01T00:00:00Z');
      const resizes = Array.from({ length: 12 }, (_, i) =>
        as(service).put('/v1/instance/race/resize', { date: '2016-01-02T00:00:00Z', flavor: `f${i}` }),
      );
      const creates = Array.from({ length: 6 }, () => as(service).post(`/v1/project/${P}/instance`, instanceBody('race', '2016-01-01T00:00:00Z')));
      const results = await Promise.all([...resizes, ...creates]);
      for (const res of results) expect([200, 201]).toContain(res.status);
      const versions = await history('race');
      expect(versions.filter((v) => v.end === null)).toHaveLength(1);
      expect(versions).toHaveLength(13);
    });
  });
});
