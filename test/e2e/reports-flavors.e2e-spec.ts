import { almanach } from '../support/reports';
import { ADMIN_TOKEN, realServers, TestApp, useTestApp } from '../support/test-app';

/**
 * The flavor catalogue (reports.md 2.4, 3.5, 4.4): GET /reports/flavors,
 * PUT and DELETE /admin/reports/flavors/{name}, through the front door.
 */

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  object: string;
  object_id: string;
  price_list_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
}

const auditRows = (t: TestApp): Promise<AuditRow[]> => t.runtime.dataSource.query(`SELECT * FROM report_audit ORDER BY at, id`);

const SMALL = { vcpus: 1, ram_mb: 2048, disk_gb: 20 };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('flavor catalogue (reports.md 3.5)', () => {
  const t = useTestApp();
  let admin: string;

  beforeEach(async () => {
    admin = await t.token('admin', { name: 'ops-admin' });
  });

  const put = (name: string, body: unknown, token = admin) =>
    t.http.put(`/admin/reports/flavors/${encodeURIComponent(name)}`).set('X-Auth-Token', token).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const del = (name: string, token = admin) => t.http.delete(`/admin/reports/flavors/${encodeURIComponent(name)}`).set('X-Auth-Token', token);
  const list = (token = admin) => t.http.get('/reports/flavors').set('X-Auth-Token', token);

  describe('PUT /admin/reports/flavors/{name}', () => {
    it('creates (201) with the defaults, then replaces (200); updated_by is the token name; rerate_job is null', async () => {
      const created = await put('m1.small', { ...SMALL, aliases: ['2', 'small-id'] }).expect(201);
      expect(created.headers['content-type']).toMatch(/^application\/json/);
      expect(created.body).toEqual({
        name: 'm1.small',
        sized: true,
        aliases: ['2', 'small-id'],
        vcpus: 1,
        ram_mb: 2048,
        disk_gb: 20,
        gpus: 0,
        description: '',
        updated_at: expect.stringMatching(ISO),
        updated_by: 'ops-admin',
        rerate_job: null,
      });
      const other = await t.token('admin', { name: 'second-admin' });
      const replaced = await put('m1.small', { vcpus: 2, ram_mb: 4096, disk_gb: 40, gpus: 1, description: 'bigger', aliases: ['small-id', 'a-new'] }, other).expect(200);
      expect(replaced.body).toEqual({
        name: 'm1.small',
        sized: true,
        aliases: ['a-new', 'small-id'],
        vcpus: 2,
        ram_mb: 4096,
        disk_gb: 40,
        gpus: 1,
        description: 'bigger',
        updated_at: expect.stringMatching(ISO),
        updated_by: 'second-admin',
        rerate_job: null,
      });
      expect(Date.parse(replaced.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.updated_at));
      // A PUT replaces the whole entry: what it leaves out returns to the default.
      const bare = await put('m1.small', SMALL).expect(200);
      expect(bare.body).toMatchObject({ aliases: [], gpus: 0, description: '' });
      expect((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_flavor_alias`))[0].n).toBe(0);
    });

    it('takes the name from the path, percent-decoded, up to 255 characters', async () => {
      await put('a/b c', SMALL).expect(201);
      const long = 'x'.repeat(255);
      await put(long, SMALL).expect(201);
      const emoji = '🙂'.repeat(255);
      await put(emoji, SMALL).expect(201);
      const names = (await list().expect(200)).body.flavors.map((f: { name: string }) => f.name);
      expect(names).toEqual(['a/b c', long, emoji]);
      const tooLong = await put('x'.repeat(256), SMALL).expect(400);
      expect(tooLong.body).toEqual({ error: 'name: must be 1 to 255 characters', fields: { name: 'must be 1 to 255 characters' } });
    });

    it('writes one audit entry per write: create, then update, with before and after', async () => {
      await put('m1.small', { ...SMALL, aliases: ['2'] }).expect(201);
      let rows = await auditRows(t);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: 'ops-admin', action: 'create', object: 'flavor', object_id: 'm1.small', price_list_id: null, before: null, reason: null });
      expect(rows[0].id).toMatch(/^au_[0-9a-f]{24}$/);
      expect(rows[0].after).toEqual({ name: 'm1.small', sized: true, aliases: ['2'], ...SMALL, gpus: 0, description: '', updated_at: expect.stringMatching(ISO), updated_by: 'ops-admin' });
      await put('m1.small', { ...SMALL, vcpus: 8 }).expect(200);
      rows = await auditRows(t);
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatchObject({ action: 'update', object_id: 'm1.small' });
      expect(rows[1].before).toEqual(rows[0].after);
      expect(rows[1].after).toMatchObject({ vcpus: 8, aliases: [] });
      expect(rows[1].id).not.toBe(rows[0].id);
    });

    it.each<[string, unknown, string, Record<string, string>]>([
      ['a required size missing', { ram_mb: 1, disk_gb: 1 }, 'vcpus: is required', { vcpus: 'is required' }],
      ['null for a required size', { vcpus: null, ram_mb: 1, disk_gb: 1 }, 'vcpus: is required', { vcpus: 'is required' }],
      ['a negative size', { vcpus: 1, ram_mb: -1, disk_gb: 1 }, 'ram_mb: must be a whole number from 0 to 2147483647', { ram_mb: 'must be a whole number from 0 to 2147483647' }],
      ['a fraction', { vcpus: 1.5, ram_mb: 1, disk_gb: 1 }, 'vcpus: must be a whole number from 0 to 2147483647', { vcpus: 'must be a whole number from 0 to 2147483647' }],
      ['a size as a string', { vcpus: '4', ram_mb: 1, disk_gb: 1 }, 'vcpus: must be a whole number from 0 to 2147483647', { vcpus: 'must be a whole number from 0 to 2147483647' }],
      ['a size beyond the column', { vcpus: 1, ram_mb: 1, disk_gb: 2147483648 }, 'disk_gb: must be a whole number from 0 to 2147483647', { disk_gb: 'must be a whole number from 0 to 2147483647' }],
      ['negative gpus', { ...SMALL, gpus: -1 }, 'gpus: must be a whole number from 0 to 2147483647', { gpus: 'must be a whole number from 0 to 2147483647' }],
      ['null gpus', { ...SMALL, gpus: null }, 'gpus: must be a whole number from 0 to 2147483647', { gpus: 'must be a whole number from 0 to 2147483647' }],
      ['a description that is not a string', { ...SMALL, description: 5 }, 'description: must be a string', { description: 'must be a string' }],
      ['a description too long', { ...SMALL, description: 'd'.repeat(1001) }, 'description: must be at most 1000 characters', { description: 'must be at most 1000 characters' }],
      ['aliases not an array', { ...SMALL, aliases: 'x' }, 'aliases: must be an array of strings', { aliases: 'must be an array of strings' }],
      ['an alias not a string', { ...SMALL, aliases: ['x', 3] }, 'aliases: must be an array of strings', { aliases: 'must be an array of strings' }],
      ['an empty alias', { ...SMALL, aliases: [''] }, 'aliases: each alias must be 1 to 255 characters', { aliases: 'each alias must be 1 to 255 characters' }],
      ['an alias of 256 characters', { ...SMALL, aliases: ['y'.repeat(256)] }, 'aliases: each alias must be 1 to 255 characters', { aliases: 'each alias must be 1 to 255 characters' }],
      ['an alias with a lone surrogate', { ...SMALL, aliases: ['a\ud800'] }, 'aliases: each alias must be 1 to 255 characters', { aliases: 'each alias must be 1 to 255 characters' }],
      ['an alias twice', { ...SMALL, aliases: ['x', 'x'] }, 'aliases: must not name an alias twice', { aliases: 'must not name an alias twice' }],
      ['the name among the aliases', { ...SMALL, aliases: ['m1.small'] }, 'aliases: must not repeat the flavor name', { aliases: 'must not repeat the flavor name' }],
      ['the name in the body', { ...SMALL, name: 'other' }, 'name: not a known field', { name: 'not a known field' }],
      ['a read-only field in the body', { ...SMALL, updated_by: 'me' }, 'updated_by: not a known field', { updated_by: 'not a known field' }],
    ])('400 for %s, in the {"error", "fields"} shape, and nothing is written', async (_what, body, error, fields) => {
      const res = await put('m1.small', body).expect(400);
      expect(res.body).toEqual({ error, fields });
      expect(await auditRows(t)).toEqual([]);
      expect((await list().expect(200)).body.flavors).toEqual([]);
    });

    it('400 names every field at fault, the first in the order of the contract', async () => {
      const res = await put('m1.small', { vcpus: -1, disk_gb: 'x' }).expect(400);
      expect(res.body.error).toBe('vcpus: must be a whole number from 0 to 2147483647');
      expect(Object.keys(res.body.fields)).toEqual(['vcpus', 'ram_mb', 'disk_gb']);
    });

    it('400 for a body that is not a JSON object, 415 for one that is not JSON', async () => {
      expect((await put('m1.small', [SMALL]).expect(400)).body).toEqual({ error: expect.any(String) });
      const broken = await t.http.put('/admin/reports/flavors/m1.small').set('X-Auth-Token', admin).set('Content-Type', 'application/json').send('{"vcpus": ');
      expect(broken.status).toBe(400);
      expect(broken.body).toEqual({ error: expect.any(String) });
      const text = await t.http.put('/admin/reports/flavors/m1.small').set('X-Auth-Token', admin).set('Content-Type', 'text/plain').send('vcpus=1');
      expect(text.status).toBe(415);
      expect(text.body).toEqual({ error: expect.stringContaining('send application/json') });
      const form = await t.http.put('/admin/reports/flavors/m1.small').set('X-Auth-Token', admin).type('form').send({ vcpus: '1' });
      expect(form.status).toBe(415);
      expect(await auditRows(t)).toEqual([]);
    });

    it('409 when a string would mean two flavors: alias = another name, alias = another alias, name = another alias', async () => {
      await put('m1.small', { ...SMALL, aliases: ['2'] }).expect(201);
      const before = await auditRows(t);
      const aliasIsName = await put('m1.large', { ...SMALL, aliases: ['m1.small'] }).expect(409);
      expect(aliasIsName.body).toEqual({ error: 'The alias "m1.small" is already the name of flavor "m1.small": a string may mean one flavor only' });
      const aliasIsAlias = await put('m1.large', { ...SMALL, aliases: ['x', '2'] }).expect(409);
      expect(aliasIsAlias.body).toEqual({ error: 'The alias "2" is already an alias of flavor "m1.small": a string may mean one flavor only' });
      const nameIsAlias = await put('2', SMALL).expect(409);
      expect(nameIsAlias.body).toEqual({ error: 'The name "2" is already an alias of flavor "m1.small": a string may mean one flavor only' });
      // Nothing was written, and the owner may still keep or move its own strings.
      expect(await auditRows(t)).toEqual(before);
      expect((await list().expect(200)).body.flavors.map((f: { name: string }) => f.name)).toEqual(['m1.small']);
      await put('m1.small', { ...SMALL, aliases: ['2', '3'] }).expect(200);
      await put('m1.small', SMALL).expect(200);
      await put('2', SMALL).expect(201);
    });

    it('401 without a token or with an unknown one; 403 for reader, service and user', async () => {
      expect((await put('m1.small', SMALL, '').expect(401)).body).toEqual({ error: 'No X-Auth-Token header: this call needs a token' });
      expect((await put('m1.small', SMALL, 'not-a-token').expect(401)).body).toEqual({ error: 'The X-Auth-Token is not a known token (never issued, or revoked)' });
      for (const role of ['reader', 'service', 'user'] as const) {
        const res = await put('m1.small', SMALL, await t.token(role)).expect(403);
        expect(res.body).toEqual({ error: 'Forbidden' });
      }
      expect(await auditRows(t)).toEqual([]);
    });
  });

  describe('DELETE /admin/reports/flavors/{name}', () => {
    it('204, removes the aliases with it, and writes one delete entry', async () => {
      await put('m1.small', { ...SMALL, aliases: ['2'] }).expect(201);
      const res = await del('m1.small').expect(204);
      expect(res.text).toBe('');
      expect((await list().expect(200)).body).toEqual({ flavors: [] });
      expect((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_flavor_alias`))[0].n).toBe(0);
      const rows = await auditRows(t);
      expect(rows.map((r) => r.action)).toEqual(['create', 'delete']);
      expect(rows[1]).toMatchObject({ actor: 'ops-admin', object: 'flavor', object_id: 'm1.small', after: null });
      expect(rows[1].before).toEqual(rows[0].after);
      // The alias is free again.
      await put('2', SMALL).expect(201);
    });

    it('404 for an unknown flavor (also an alias, which is not an entry)', async () => {
      expect((await del('nope').expect(404)).body).toEqual({ error: 'No flavor named "nope" in the catalogue' });
      await put('m1.small', { ...SMALL, aliases: ['2'] }).expect(201);
      await del('2').expect(404);
      expect((await auditRows(t)).map((r) => r.action)).toEqual(['create']);
    });

    it('409 while a version in history stores its name or an alias; nothing changes', async () => {
      const a = almanach(t, await t.token('service'));
      await put('m1.small', { ...SMALL, aliases: ['2'] }).expect(201);
      await put('m1.large', { ...SMALL, aliases: ['3'] }).expect(201);
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.small');
      await a.createInstance('p2', 'i2', '2025-03-01T00:00:00Z', '3');
      const byName = await del('m1.small').expect(409);
      expect(byName.body).toEqual({ error: 'Flavor "m1.small" is in use: versions in history store its name; correct those versions instead of deleting the flavor' });
      const byAlias = await del('m1.large').expect(409);
      expect(byAlias.body).toEqual({ error: 'Flavor "m1.large" is in use: versions in history store its alias "3"; correct those versions instead of deleting the flavor' });
      expect((await list().expect(200)).body.flavors.map((f: { name: string }) => f.name)).toEqual(['m1.large', 'm1.small']);
      expect((await auditRows(t)).map((r) => r.action)).toEqual(['create', 'create']);
    });

    it('401, and 403 for every role but admin', async () => {
      await put('m1.small', SMALL).expect(201);
      await del('m1.small', '').expect(401);
      for (const role of ['reader', 'service', 'user'] as const) await del('m1.small', await t.token(role)).expect(403);
      await del('m1.small').expect(204);
    });
  });

  describe('GET /reports/flavors', () => {
    it('lists entries (sized) and history strings that are neither a name nor an alias (unsized), by name in byte order', async () => {
      const a = almanach(t, await t.token('service'));
      await put('m1.small', { ...SMALL, aliases: ['2'] }).expect(201);
      await put('B.gpu', { vcpus: 8, ram_mb: 65536, disk_gb: 100, gpus: 2, description: 'GPU' }).expect(201);
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.small');
      await a.createInstance('p1', 'i2', '2025-03-01T00:00:00Z', '2');
      await a.createInstance('p1', 'i3', '2025-03-01T00:00:00Z', 'c1.huge');
      await a.resizeInstance('i3', '2025-03-05T00:00:00Z', 'c1.huge');
      await a.createInstance('p2', 'i4', '2025-03-01T00:00:00Z', 'a.lower');
      await a.createInstance('p2', 'i5', '2025-03-01T00:00:00Z', null);
      const res = await list(await t.token('reader')).expect(200);
      expect(res.body).toEqual({
        flavors: [
          { name: 'B.gpu', sized: true, aliases: [], vcpus: 8, ram_mb: 65536, disk_gb: 100, gpus: 2, description: 'GPU', updated_at: expect.stringMatching(ISO), updated_by: 'ops-admin' },
          { name: 'a.lower', sized: false },
          { name: 'c1.huge', sized: false },
          { name: 'm1.small', sized: true, aliases: ['2'], ...SMALL, gpus: 0, description: '', updated_at: expect.stringMatching(ISO), updated_by: 'ops-admin' },
        ],
      });
    });

    it('a user sees every entry but only the unsized strings of its own projects', async () => {
      const a = almanach(t, await t.token('service'));
      await put('m1.small', SMALL).expect(201);
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'mine');
      await a.createInstance('p2', 'i2', '2025-03-01T00:00:00Z', 'theirs');
      const user = await t.token('user', { projectIds: ['p1'] });
      expect((await list(user).expect(200)).body.flavors.map((f: { name: string; sized: boolean }) => [f.name, f.sized])).toEqual([
        ['m1.small', true],
        ['mine', false],
      ]);
      const nobody = await t.token('user', { projectIds: [] });
      expect((await list(nobody).expect(200)).body.flavors.map((f: { name: string }) => f.name)).toEqual(['m1.small']);
      for (const role of ['admin', 'service'] as const) {
        expect((await list(await t.token(role)).expect(200)).body.flavors.map((f: { name: string }) => f.name)).toEqual(['m1.small', 'mine', 'theirs']);
      }
    });

    it('401 without a token or with an unknown one; unknown query parameters are 400', async () => {
      expect((await t.http.get('/reports/flavors').expect(401)).body).toEqual({ error: 'No X-Auth-Token header: this call needs a token' });
      expect((await list('nope').expect(401)).body).toEqual({ error: 'The X-Auth-Token is not a known token (never issued, or revoked)' });
      expect((await t.http.get('/reports/flavors').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body).toEqual({ flavors: [] });
      const typo = await t.http.get('/reports/flavors?sized=true&x=1').set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      expect(typo.body).toEqual({ error: 'sized: not a known parameter', fields: { sized: 'not a known parameter', x: 'not a known parameter' } });
    });
  });

  const real = realServers.database ? describe : describe.skip;
  if (!realServers.database) console.log('flavor catalogue concurrency tests skipped: they need real PostgreSQL (set DATABASE_URL)');

  real('concurrent conflicting PUTs (PostgreSQL): exactly one wins, the other is 409', () => {
    it('two entries claiming the same alias', async () => {
      for (let round = 0; round < 25; round++) {
        await t.runtime.dataSource.query(`DELETE FROM report_flavor`);
        await t.runtime.dataSource.query(`DELETE FROM report_audit`);
        const results = await Promise.all([put('x', { ...SMALL, aliases: ['shared'] }), put('y', { ...SMALL, aliases: ['shared'] })]);
        expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
        const owners = await t.runtime.dataSource.query(`SELECT flavor_name FROM report_flavor_alias WHERE alias = 'shared'`);
        expect(owners).toHaveLength(1);
        expect(await auditRows(t)).toHaveLength(1);
      }
    });

    it('an alias equal to a name created at the same moment', async () => {
      for (let round = 0; round < 25; round++) {
        await t.runtime.dataSource.query(`DELETE FROM report_flavor`);
        await t.runtime.dataSource.query(`DELETE FROM report_audit`);
        const results = await Promise.all([put('a', { ...SMALL, aliases: ['b'] }), put('b', SMALL)]);
        expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
        const names: { name: string }[] = await t.runtime.dataSource.query(`SELECT name FROM report_flavor`);
        const aliases: { alias: string }[] = await t.runtime.dataSource.query(`SELECT alias FROM report_flavor_alias`);
        // Never both: "b" is a name or an alias, not both.
        expect(names.map((n) => n.name).filter((n) => aliases.some((a) => a.alias === n))).toEqual([]);
        expect(await auditRows(t)).toHaveLength(1);
      }
    });
  });
});
