import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { parseAlmanachDate } from '../../src/almanach/almanach-dates';
import { AlmanachService } from '../../src/almanach/almanach.service';
import { useTestApp } from '../support/test-app';

const P = 'project-a';
const INVALID = { error: 'Invalid parameter or payload' };
const BAD_DATE = {
  error: 'The provided date has an invalid format. Format should be of yyyy-mm-ddThh:mm:ss.msZ, ex: 2015-01-31T18:24:34.1523Z',
};

type Method = 'post' | 'put' | 'delete';

/**
 * The typed validation of every Almanach input at the edge (DTOs in
 * src/almanach/dto, wording in dto/almanach-input.ts): each body field of the
 * wrong JSON type answers 400 in Almanach's shape and writes nothing.
 */
describe('Almanach v1 input validation', () => {
  let service: string;
  const t = useTestApp();

  beforeEach(async () => {
    service = await t.token('service');
  });

  const send = (method: Method, url: string, body?: unknown) => {
    const req = t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json');
    return body === undefined ? req : req.send(body as object);
  };
  const get = (url: string) => t.http.get(url).set('X-Auth-Token', service);

  async function seed() {
    await send('post', '/v1/volume_type', { type_id: 't1', type_name: 'ssd' }).expect(201);
    await send('post', `/v1/project/${P}/instance`, {
      id: 'i1',
      created_at: '2016-01-01T00:00:00Z',
      name: 'n',
      flavor: 'f',
      os_distro: null,
      os_version: null,
      os_type: null,
    }).expect(201);
    await send('post', `/v1/project/${P}/volume`, { volume_id: 'v1', start: '2016-01-01T00:00:00Z', volume_type: 't1', size: 1, volume_name: 'v', attached_to: [] }).expect(201);
  }

  async function snapshot() {
    const entities = await get(`/v1/project/${P}/entities?start=2000-01-01+00:00:00.0`).expect(200);
    const types = await get('/v1/volume_types').expect(200);
    return { entities: entities.body, types: types.body };
  }

  const date = '2016-02-01T00:00:00Z';
  /** `nullable`: keys the contract lets be null (5.2, 5.5, 5.7, 5.10). */
  const routes: { name: string; method: Method; url: string; body: Record<string, unknown>; dates: string[]; nullable?: string[] }[] = [
    {
      name: 'create instance',
      method: 'post',
      url: `/v1/project/${P}/instance`,
      body: { id: 'i2', created_at: date, name: 'n', flavor: 'f', os_distro: 'd', os_version: 'v', os_type: 'o' },
      dates: ['created_at'],
      nullable: ['name', 'flavor', 'os_distro', 'os_version', 'os_type'],
    },
    { name: 'delete instance', method: 'delete', url: '/v1/instance/i1', body: { date }, dates: ['date'] },
    { name: 'resize instance', method: 'put', url: '/v1/instance/i1/resize', body: { date, flavor: 'big' }, dates: ['date'] },
    {
      name: 'rebuild instance',
      method: 'put',
      url: '/v1/instance/i1/rebuild',
      body: { rebuild_date: date, distro: 'd', version: 'v', os_type: 'o' },
      dates: ['rebuild_date'],
      nullable: ['distro', 'version', 'os_type'],
    },
    {
      name: 'create volume',
      method: 'post',
      url: `/v1/project/${P}/volume`,
      body: { volume_id: 'v2', start: date, volume_type: 't1', size: 2, volume_name: 'v', attached_to: ['i1'] },
      dates: ['start'],
      nullable: ['volume_type', 'volume_name', 'attached_to'],
    },
    { name: 'delete volume', method: 'delete', url: '/v1/volume/v1', body: { date }, dates: ['date'] },
    { name: 'resize volume', method: 'put', url: '/v1/volume/v1/resize', body: { size: 5, date }, dates: ['date'] },
    { name: 'attach volume', method: 'put', url: '/v1/volume/v1/attach', body: { date, attachments: ['i1'] }, dates: ['date'], nullable: ['attachments'] },
    { name: 'detach volume', method: 'put', url: '/v1/volume/v1/detach', body: { date, attachments: [] }, dates: ['date'], nullable: ['attachments'] },
    { name: 'create volume type', method: 'post', url: '/v1/volume_type', body: { type_id: 't2', type_name: 'hdd' }, dates: [] },
  ];

  /** Values of the wrong JSON type for a field; null is wrong only where the contract does not allow it. */
  const wrongValues = (field: string, nullable: string[]): unknown[] => {
    const values: unknown[] = [true, { a: 'b' }, { constructor: 'x' }];
    if (field !== 'size') values.push(5);
    if (!['attachments', 'attached_to'].includes(field)) values.push(['x']);
    else values.push([1], ['x', 2]);
    if (field === 'size') values.push('ten', -1, 1.5, 2_147_483_648, '99999999999', null);
    else if (!nullable.includes(field)) values.push(null);
    return values;
  };

  describe.each(routes)('$name', ({ method, url, body, dates, nullable = [] }) => {
    it('accepts the valid body (the cases below change one field)', async () => {
      await seed();
      const res = await send(method, url, body);
      expect(res.status).toBeLessThan(300);
    });

    it('answers 400 in the Almanach shape for every field of the wrong type, and writes nothing', async () => {
      await seed();
      const before = await snapshot();
      for (const field of Object.keys(body)) {
        for (const value of wrongValues(field, nullable)) {
          const res = await send(method, url, { ...body, [field]: value });
          expect({ field, value, status: res.status, body: res.body }).toEqual({
            field,
            value,
            status: 400,
            body: dates.includes(field) ? BAD_DATE : INVALID,
          });
        }
      }
      expect(await snapshot()).toEqual(before);
    });

    it('answers 400 naming each missing field', async () => {
      await seed();
      for (const field of Object.keys(body).filter((key) => key !== 'attached_to')) {
        const { [field]: _omitted, ...rest } = body;
        const res = await send(method, url, rest).expect(400);
        expect(res.body).toEqual({ error: `The '${field}' param is mandatory for the request you have made.` });
      }
    });

    it('answers 400 Invalid parameter or payload for a body that is not an object', async () => {
      await seed();
      for (const payload of ['[1]', '"text"', '5', 'null', 'true']) {
        const res = await t.http[method](url).set('X-Auth-Token', service).set('Content-Type', 'application/json').send(payload);
        expect({ payload, status: res.status, body: res.body }).toEqual({ payload, status: 400, body: INVALID });
      }
    });
  });

  describe('sizes', () => {
    it('refuses a size beyond the integer column instead of failing in PostgreSQL, and accepts the largest', async () => {
      await seed();
      const res = await send('put', '/v1/volume/v1/resize', { size: 2_147_483_648, date }).expect(400);
      expect(res.body).toEqual(INVALID);
      await send('put', '/v1/volume/v1/resize', { size: '2147483647', date }).expect(200);
      const versions = (await get('/v1/entity/v1').expect(200)).body as { size: number }[];
      expect(versions.map((v) => v.size)).toEqual([1, 2_147_483_647]);
    });
  });

  describe('PUT /v1/entity/instance/{instance_id}', () => {
    it('reports every bad field keyed by name, with the reference wording', async () => {
      await seed();
      const res = await send('put', '/v1/entity/instance/i1', {
        name: 5,
        flavor: null,
        metadata: [],
        start_date: 5,
        end_date: 'nope',
        extra: 1,
      }).expect(400);
      expect(res.body).toEqual({
        error: {
          name: 'expected str',
          flavor: 'expected str',
          metadata: 'expected dict',
          start_date: BAD_DATE.error,
          end_date: BAD_DATE.error,
          extra: 'extra keys not allowed',
        },
      });
    });

    it.each([
      ['x', 'expected dict'],
      [['distro'], 'expected dict'],
      [{ distro: 'a' }, 'required key not provided: version, os_type'],
      [{ distro: 'a', version: 'b', os_type: 'c', arch: 'x86' }, 'extra keys not allowed: arch'],
      [{ distro: 'a', version: null, os_type: 5 }, 'expected str for version, os_type'],
    ])('answers os %p with %p', async (os, message) => {
      await seed();
      const res = await send('put', '/v1/entity/instance/i1', { os }).expect(400);
      expect(res.body).toEqual({ error: { os: message } });
    });

    it('stores metadata exactly as sent, keys named constructor or with dots included', async () => {
      await seed();
      const metadata = { constructor: 'x', 'a.b': { c: [1, 'two', null] }, n: 1.5 };
      const res = await send('put', '/v1/entity/instance/i1', { metadata, os: { distro: 'a', version: 'b', os_type: 'c' } }).expect(200);
      expect(res.body.metadata).toEqual(metadata);
      expect(res.body.os).toEqual({ distro: 'a', version: 'b', os_type: 'c' });
    });

    it('answers 400 Invalid parameter or payload for a bad query date, and names a missing end', async () => {
      await seed();
      expect((await send('put', '/v1/entity/instance/i1?start=nope&end=2016-01-02', { name: 'x' }).expect(400)).body).toEqual(INVALID);
      expect((await send('put', '/v1/entity/instance/i1?start=2016-01-01&end=nope', { name: 'x' }).expect(400)).body).toEqual(INVALID);
      expect((await send('put', '/v1/entity/instance/i1?start=2016-01-01', { name: 'x' }).expect(400)).body).toEqual({
        error: "The 'end' param is mandatory for the request you have made.",
      });
    });

    it('checks the query before the body', async () => {
      await seed();
      expect((await send('put', '/v1/entity/instance/i1?start=nope&end=2016-01-02', { wrong: 1 }).expect(400)).body).toEqual(INVALID);
      expect((await send('put', '/v1/entity/instance/i1?start=2016-01-01', { wrong: 1 }).expect(400)).body).toEqual({
        error: "The 'end' param is mandatory for the request you have made.",
      });
      expect((await send('put', '/v1/entity/instance/i1?start=2016-01-01&end=2016-01-02', { wrong: 1 }).expect(400)).body).toEqual({
        error: { wrong: 'extra keys not allowed' },
      });
    });

    it('answers 400 Invalid parameter or payload for a body that is not an object', async () => {
      await seed();
      for (const payload of ['[1]', '"x"', 'null']) {
        const res = await t.http.put('/v1/entity/instance/i1').set('X-Auth-Token', service).set('Content-Type', 'application/json').send(payload);
        expect({ payload, status: res.status, body: res.body }).toEqual({ payload, status: 400, body: INVALID });
      }
    });
  });

  describe('window listings', () => {
    it.each(['instances', 'volumes', 'entities'])('/%s: start required, dates must parse, repeated keys refused', async (route) => {
      const url = `/v1/project/${P}/${route}`;
      expect((await get(url).expect(400)).body).toEqual({ error: "The 'start' param is mandatory for the request you have made." });
      expect((await get(`${url}?end=2016-01-01`).expect(400)).body).toEqual({ error: "The 'start' param is mandatory for the request you have made." });
      for (const query of ['start=nope', 'start=', 'start=2016-01-01&end=nope', 'start=2016-01-01&start=2016-01-02', 'start=2016-01-01&end=2016-01-02&end=2016-01-03']) {
        const res = await get(`${url}?${query}`);
        expect({ query, status: res.status, body: res.body }).toEqual({ query, status: 400, body: INVALID });
      }
      await get(`${url}?start=2016-01-01+00:00:00.0&unknown=1`).expect(200);
    });

    it.each(['instances', 'volumes', 'entities'])('/%s: a user asking for a foreign project gets 403 even with a malformed query', async (route) => {
      const user = await t.token('user', { userId: 'u1', projectIds: [P] });
      for (const query of ['', '?start=nope', '?start=2016-01-01+00:00:00.0']) {
        const res = await t.http.get(`/v1/project/other/${route}${query}`).set('X-Auth-Token', user);
        expect({ query, status: res.status, body: res.body }).toEqual({ query, status: 403, body: { error: 'Forbidden' } });
      }
      expect((await t.http.get(`/v1/project/${P}/${route}`).set('X-Auth-Token', user).expect(400)).body.error).toMatch(/'start' param/);
    });
  });

  describe('AlmanachService commands (the collector calls them directly)', () => {
    const micros = (text: string) => parseAlmanachDate(text)!;

    it('renameVolume sets the open version name in place, keeps last_event, and answers false without an open volume', async () => {
      await seed();
      const almanach = t.app.get(AlmanachService);
      await send('put', '/v1/volume/v1/resize', { size: 5, date: '2016-01-03T00:00:00Z' }).expect(200);
      expect(await almanach.renameVolume({ volumeId: 'v1', name: 'renamed' })).toBe(true);
      const versions = (await get('/v1/entity/v1').expect(200)).body as { name: string; last_event: string; end: string | null }[];
      expect(versions.map((v) => [v.name, v.last_event, v.end])).toEqual([
        ['v', '2016-01-03 00:00:00+00:00', '2016-01-03 00:00:00+00:00'],
        ['renamed', '2016-01-03 00:00:00+00:00', null],
      ]);
      expect(await almanach.renameVolume({ volumeId: 'nope', name: 'x' })).toBe(false);
      expect(await almanach.renameVolume({ volumeId: 'i1', name: 'x' })).toBe(false);
      expect((await get('/v1/entity/i1').expect(200)).body[0].name).toBe('n');
    });

    it('runs WriteOptions.within in the write transaction: its failure rolls the change back', async () => {
      await seed();
      const almanach = t.app.get(AlmanachService);
      const before = await snapshot();
      await expect(
        almanach.resizeInstance(
          { instanceId: 'i1', date: micros('2016-01-05T00:00:00Z'), flavor: 'big' },
          {
            within: async (m) => {
              const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM almanach_entity_version WHERE entity_id = 'i1'`);
              expect(n).toBe(2); // the change is visible inside the transaction
              throw new Error('receipt refused');
            },
          },
        ),
      ).rejects.toThrow('receipt refused');
      expect(await snapshot()).toEqual(before);
      let ran = false;
      await almanach.resizeInstance({ instanceId: 'i1', date: micros('2016-01-05T00:00:00Z'), flavor: 'big' }, { within: async () => void (ran = true) });
      expect(ran).toBe(true);
      expect(((await get('/v1/entity/i1').expect(200)).body as { flavor: string }[]).map((v) => v.flavor)).toEqual(['f', 'big']);
    });
  });

  describe('OpenAPI', () => {
    let doc: OpenAPIObject;
    beforeAll(() => {
      doc = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    });

    const operations = () =>
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([method]) => ['get', 'post', 'put', 'delete'].includes(method))
          .map(([method, op]) => ({ path, method, op: op as Record<string, any> }))
          .filter(({ op }) => (op.tags ?? []).includes('almanach')),
      );

    it('documents the 19 routes of /v1 and their unprefixed aliases, each with an almanach.* operation id', () => {
      const ops = operations();
      expect(ops).toHaveLength(38);
      const v1 = ops.filter((o) => o.path.startsWith('/v1/'));
      expect(new Set(v1.map((o) => o.op.operationId)).size).toBe(19);
      for (const { op } of ops) {
        expect(op.operationId).toMatch(/^almanach\.[a-z][A-Za-z]+$/);
        expect(op.summary).toBeTruthy();
      }
    });

    it('marks every route but /info with the token scheme', () => {
      for (const { path, op } of operations()) {
        if (path === '/v1/info' || path === '/info') expect(op.security).toBeUndefined();
        else expect(op.security).toEqual([{ token: [] }]);
      }
    });

    it('gives every body and query a schema, and errors in the Almanach shape', () => {
      const schemaOf = (ref: string) => doc.components!.schemas![ref.replace('#/components/schemas/', '')] as Record<string, any>;
      for (const { path, method, op } of operations()) {
        if (['post', 'put'].includes(method) || (method === 'delete' && !path.includes('volume_type'))) {
          const schema = op.requestBody?.content?.['application/json']?.schema;
          expect({ path, method, properties: Object.keys(schemaOf(schema.$ref).properties).length > 0 }).toEqual({ path, method, properties: true });
        }
        if (path.endsWith('/instances') || path.endsWith('/volumes') || path.endsWith('/entities')) {
          expect(op.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string; required: boolean }) => [p.name, p.required])).toEqual([
            ['start', true],
            ['end', false],
          ]);
        }
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          if (Number(status) >= 400) expect(response.content['application/json'].schema.required).toEqual(['error']);
        }
        expect(Object.keys(op.responses).some((s) => Number(s) < 300)).toBe(true);
      }
    });
  });
});
