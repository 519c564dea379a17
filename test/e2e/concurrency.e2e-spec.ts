import { APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

// Many requests at once must each get their own answer, on every database
// mode: embedded PGlite serves all connections through one session, so this
// guards against the protocol messages of two requests mixing there.
describe('concurrent requests', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.reset();
    token = await t.token('service');
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t.close();
  });

  it('answers 120 mixed reads and writes at once, each with its own data', async () => {
    const projects = Array.from({ length: 40 }, (_, i) => `conc-${i}`);
    // Recent dates: a write dated years back marks a dirty report key for every
    // day since (docs/reports.md), which is the rollups' cost, not this test's.
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    const creates = projects.map((p) =>
      t.http
        .post(`/v1/project/${p}/instance`)
        .set('X-Auth-Token', token)
        .send({ id: `i-${p}`, created_at: `${day(2)}T00:00:00Z`, name: p, flavor: 'f', os_distro: null, os_version: null, os_type: null }),
    );
    for (const res of await Promise.all(creates)) expect(res.status).toBe(201);

    const reads = projects.flatMap((p) => [
      t.http.get(`/v1/project/${p}/instances?start=${day(3)}+00:00:00.0`).set('X-Auth-Token', token),
      t.http.get(`/v1/entity/i-${p}`).set('X-Auth-Token', token),
      t.http.put(`/v1/instance/i-${p}/resize`).set('X-Auth-Token', token).send({ date: `${day(1)}T00:00:00Z`, flavor: `g-${p}` }),
    ]);
    const answers = await Promise.all(reads);
    projects.forEach((p, i) => {
      const [list, entity, resize] = answers.slice(i * 3, i * 3 + 3);
      expect(list.status).toBe(200);
      expect(list.body.every((v: { project_id: string }) => v.project_id === p)).toBe(true);
      expect(entity.status).toBe(200);
      expect(entity.body.every((v: { entity_id: string }) => v.entity_id === `i-${p}`)).toBe(true);
      expect(resize.status).toBe(200);
    });
    const info = await t.http.get('/v1/info').expect(200);
    expect(info.body.database).toEqual({ all_entities: 80, active_entities: 40 });
  });
});
