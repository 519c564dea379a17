import { Client } from 'pg';
import { AuthRepository } from '../../src/auth/auth.repository';
import { ADMIN_TOKEN, realServers, useTestApp } from '../support/test-app';

/**
 * The Almanach window listings and entity writes take a token this process
 * has found stored before from memory, and their statement (the listing; the
 * write transaction's first) confirms it is still stored (AccessRule
 * `checkedByStatement`, docs/almanach.md): no credential round trip of its
 * own, and a token revoked through any process (here: its row deleted in
 * SQL, as another API process would) gets 401 at once, on every path, the
 * error paths included (TokenCheckHook), and writes nothing.
 */
describe('Almanach listings and writes: a token from memory, confirmed by the statement', () => {
  const t = useTestApp();
  const P = 'project-memory';
  const OTHER = 'project-other';
  const START = 'start=2016-01-01+00:00:00.000000';
  const as = (token: string) => ({ get: (path: string) => t.http.get(path).set('X-Auth-Token', token) });
  const lookups = () => jest.spyOn(t.app.get(AuthRepository), 'findTokenByHash');
  const revokeElsewhere = async (name: string) => {
    const count = async () => Number((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM api_token WHERE name = $1`, [name]))[0].n);
    expect(await count()).toBe(1);
    await t.runtime.dataSource.query(`DELETE FROM api_token WHERE name = $1`, [name]);
    expect(await count()).toBe(0);
  };

  beforeEach(async () => {
    jest.restoreAllMocks();
    const writer = await t.token('service', { name: 'writer' });
    for (const [project, id] of [[P, 'vm-1'], [OTHER, 'vm-2']]) {
      await t.http
        .post(`/v1/project/${project}/instance`)
        .set('X-Auth-Token', writer)
        .send({ id, created_at: '2016-02-01T00:00:00Z', name: id, flavor: 'm1.small', os_distro: null, os_version: null, os_type: null })
        .expect(201);
    }
  });

  it('lists with no credential look-up once the token is known, and the same answer', async () => {
    const reader = await t.token('reader', { name: 'reader-a' });
    const first = await as(reader).get(`/v1/project/${P}/entities?${START}`).expect(200);
    expect(first.body.map((v: { entity_id: string }) => v.entity_id)).toEqual(['vm-1']);
    const spy = lookups();
    for (const path of ['entities', 'instances', 'volumes']) {
      const again = await as(reader).get(`/v1/project/${P}/${path}?${START}`).expect(200);
      if (path !== 'volumes') expect(again.text).toBe(first.text);
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it.each(['instances', 'volumes', 'entities'])('answers 401 at once to a known token revoked through another process (/%s): its statement says so, and it is forgotten', async (path) => {
    const name = `reader-b-${path}`;
    const reader = await t.token('reader', { name });
    await as(reader).get(`/v1/project/${P}/${path}?${START}`).expect(200);
    await revokeElsewhere(name);
    const spy = lookups();
    expect((await as(reader).get(`/v1/project/${P}/${path}?${START}`).expect(401)).body).toEqual({ error: 'Unauthorized' });
    // The statement found it gone: no look-up of its own, and none in TokenCheckHook.
    expect(spy).not.toHaveBeenCalled();
    // Forgotten: the next call looks the token up (and finds nothing), as an unknown token's does.
    await as(reader).get(`/v1/project/${P}/${path}?${START}`).expect(401);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('answers 401, not the 400, to a revoked known token whose query is refused before the statement', async () => {
    const reader = await t.token('reader', { name: 'reader-c' });
    await as(reader).get(`/v1/project/${P}/entities?${START}`).expect(200);
    // Still stored: the 400s stand, each confirmed by one look-up before it leaves.
    const spy = lookups();
    await as(reader).get(`/v1/project/${P}/entities?start=not-a-date`).expect(400);
    await as(reader).get(`/v1/project/${P}/entities?start=2016-02-01+00:00:00.000000&end=2016-01-01+00:00:00.000000`).expect(400);
    expect(spy).toHaveBeenCalledTimes(2);
    await revokeElsewhere('reader-c');
    spy.mockClear();
    expect((await as(reader).get(`/v1/project/${P}/entities?start=not-a-date`).expect(401)).body).toEqual({ error: 'Unauthorized' });
    // Taken from memory by the guard, confirmed gone by TokenCheckHook's one look-up.
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it("answers 401, not the 403, to a revoked known user token asking for another project", async () => {
    const user = await t.token('user', { name: 'user-d', projectIds: [P] });
    await as(user).get(`/v1/project/${P}/entities?${START}`).expect(200);
    await as(user).get(`/v1/project/${OTHER}/entities?${START}`).expect(403);
    await revokeElsewhere('user-d');
    const spy = lookups();
    const refused = await as(user).get(`/v1/project/${OTHER}/entities?${START}`).expect(401);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(refused.body).toEqual({ error: 'Unauthorized' });
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
  });

  it('leaves the other routes to a look-up per request, and ADMIN_TOKEN to its comparison', async () => {
    const reader = await t.token('reader', { name: 'reader-e' });
    await as(reader).get(`/v1/project/${P}/entities?${START}`).expect(200);
    const spy = lookups();
    await as(reader).get('/v1/entity/vm-1').expect(200);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockClear();
    await as(ADMIN_TOKEN).get(`/v1/project/${P}/entities?${START}`).expect(200);
    await as(ADMIN_TOKEN).get(`/v1/project/${P}/entities?${START}`).expect(200);
    expect(spy).not.toHaveBeenCalled();
  });

  describe('entity writes', () => {
    const send = (token: string, method: 'post' | 'put' | 'delete', path: string, body: object) => t.http[method](path).set('X-Auth-Token', token).send(body);
    const versions = async (id: string) =>
      (await t.runtime.dataSource.query(`SELECT start, "end" FROM almanach_entity_version WHERE entity_id = $1 ORDER BY start`, [id])) as { end: Date | null }[];
    const create = (token: string, id: string) =>
      send(token, 'post', `/v1/project/${P}/instance`, { id, created_at: '2016-03-01T00:00:00Z', name: id, flavor: 'm1.small', os_distro: null, os_version: null, os_type: null });

    it('writes with no credential look-up once the token is known, and an error inside the transaction needs none either', async () => {
      const writer = await t.token('service', { name: 'writer-f' });
      await create(writer, 'vm-f1').expect(201);
      const spy = lookups();
      await send(writer, 'put', '/v1/instance/vm-f1/resize', { date: '2016-03-02T00:00:00Z', flavor: 'm1.large' }).expect(200);
      await send(writer, 'put', '/v1/instance/vm-f1/rebuild', { rebuild_date: '2016-03-03T00:00:00Z', distro: 'd', version: '1', os_type: 'linux' }).expect(200);
      await create(writer, 'vm-f1').expect(201); // a re-delivered create: nothing written, still confirmed
      await send(writer, 'delete', '/v1/instance/vm-f1', { date: '2016-03-04T00:00:00Z' }).expect(202);
      await send(writer, 'delete', '/v1/instance/no-such-vm', { date: '2016-03-04T00:00:00Z' }).expect(404);
      await send(writer, 'post', `/v1/project/${P}/volume`, { volume_id: 'vol-f', start: '2016-03-01T00:00:00Z', volume_type: null, size: 1, volume_name: 'v', attached_to: [] }).expect(201);
      await send(writer, 'put', '/v1/volume/vol-f/attach', { date: '2016-03-02T00:00:00Z', attachments: ['vm-f1'] }).expect(200);
      expect(spy).not.toHaveBeenCalled();
      expect((await versions('vm-f1')).map((v) => v.end === null)).toEqual([false, false, false]);
    });

    // Each write by its own known token, revoked through another process: the first request after the revocation.
    it.each([
      ['a create', (w: string) => create(w, 'vm-g2'), 0],
      ['a resize', (w: string) => send(w, 'put', '/v1/instance/vm-g1/resize', { date: '2016-03-02T00:00:00Z', flavor: 'm1.large' }), 0],
      ['a delete', (w: string) => send(w, 'delete', '/v1/instance/vm-g1', { date: '2016-03-04T00:00:00Z' }), 0],
      ['a delete of an unknown instance', (w: string) => send(w, 'delete', '/v1/instance/no-such-vm', { date: '2016-03-04T00:00:00Z' }), 0],
      ['an attach', (w: string) => send(w, 'put', '/v1/volume/vol-g/attach', { date: '2016-03-02T00:00:00Z', attachments: ['vm-g1'] }), 0],
      // Refused by validation before any statement: TokenCheckHook's one look-up finds it gone.
      ['a delete without its date', (w: string) => send(w, 'delete', '/v1/instance/vm-g1', {}), 1],
    ] as const)('answers 401 at once to %s by a known writer revoked through another process, and writes nothing', async (what, write, hookLookups) => {
      const name = `writer-g-${what.replace(/\W+/g, '-')}`;
      const writer = await t.token('service', { name });
      await create(writer, 'vm-g1').expect(201);
      await send(writer, 'post', `/v1/project/${P}/volume`, { volume_id: 'vol-g', start: '2016-03-01T00:00:00Z', volume_type: null, size: 1, volume_name: 'v', attached_to: [] }).expect(201);
      await revokeElsewhere(name);
      const spy = lookups();
      const refused = await write(writer);
      expect([refused.status, refused.body]).toEqual([401, { error: 'Unauthorized' }]);
      expect(spy).toHaveBeenCalledTimes(hookLookups);
      expect(await versions('vm-g2')).toEqual([]);
      expect((await versions('vm-g1')).map((v) => v.end)).toEqual([null]);
      expect((await t.runtime.dataSource.query(`SELECT attached_to FROM almanach_entity_version WHERE entity_id = 'vol-g'`)).map((r: { attached_to: string[] }) => r.attached_to)).toEqual([[]]);
    });

    const real = realServers.database ? it : it.skip;
    if (!realServers.database) console.log('the revoked-while-waiting test of almanach_lock_open is skipped: it needs real PostgreSQL (set DATABASE_URL) for a second connection');

    real('refuses a write whose token was revoked while it waited for the entity lock (the check runs once the lock is held)', async () => {
      const writer = await t.token('service', { name: 'writer-h' });
      await create(writer, 'vm-h1').expect(201);
      const other = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'lock-holder' });
      await other.connect();
      try {
        // Another writer holds the entity's lock; the token is revoked in the same transaction, not yet committed.
        await other.query('BEGIN');
        await other.query(`SELECT pg_advisory_xact_lock(hashtextextended('vm-h1', 0))`);
        await other.query(`DELETE FROM api_token WHERE name = 'writer-h'`);
        // Started now (supertest sends on then), answered once the lock is released.
        const resize = send(writer, 'put', '/v1/instance/vm-h1/resize', { date: '2016-03-02T00:00:00Z', flavor: 'm1.large' }).then((r) => r);
        const waiting = async () => (await other.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0].n as number;
        for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(await waiting()).toBe(1);
        await other.query('COMMIT');
        const refused = await resize;
        expect([refused.status, refused.body]).toEqual([401, { error: 'Unauthorized' }]);
      } finally {
        await other.query('ROLLBACK').catch(() => undefined);
        await other.end();
      }
      expect((await versions('vm-h1')).map((v) => v.end)).toEqual([null]);
    }, 30_000);
  });
});
