import { action, createAllocation, form, ROOT, seedCatalogue } from '../support/allocation-fixtures';
import { ADMIN_TOKEN, realServers, useTestApp } from '../support/test-app';

// Races need real PostgreSQL: embedded PGlite runs one query at a time, so nothing can interleave there.
const maybe = realServers.database ? describe : describe.skip;
if (!realServers.database) console.log('allocation-concurrency: skipped, DATABASE_URL is not set (races need real PostgreSQL)');

maybe('allocation races on real PostgreSQL (allocations.md 4, 5)', () => {
  const t = useTestApp();

  beforeEach(async () => {
    await seedCatalogue(t);
  });

  it('keeps one current record per project when creates race (one 201, the rest 409)', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.http
          .post(`${ROOT}/allocations/`)
          .set('X-Auth-Token', ADMIN_TOKEN)
          .type('form')
          .send(form({ project_name: `race-${i}`, project_description: 'D', use_case: 'U', project_id: 'p-race' })),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const current = await t.http.get(`${ROOT}/allocations/?project_id=p-race&parent_request__isnull=True`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
    expect(current.body.count).toBe(1);
  });

  it('approves once when approvals race, with exactly one snapshot', async () => {
    const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom' });
    const results = await Promise.all(Array.from({ length: 6 }, () => action(t, ADMIN_TOKEN, a.id, 'approve')));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const history = await t.http.get(`${ROOT}/allocations/?parent_request=${a.id}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
    expect(history.body.count).toBe(1);
  });

  it('never adds a quota to an allocation that an approval has frozen', async () => {
    const a = await createAllocation(t, ADMIN_TOKEN, { associated_site: 'uom' });
    const resource = (await t.http.get(`${ROOT}/resources/?quota_name=cores`).set('X-Auth-Token', ADMIN_TOKEN)).body.results[0].id;
    const [approve, quota] = await Promise.all([
      action(t, ADMIN_TOKEN, a.id, 'approve'),
      t.http.post(`${ROOT}/quotas/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ allocation: a.id, resource, zone: 'melbourne', quota: 2 })),
    ]);
    expect(approve.status).toBe(200);
    const snapshot = (await t.http.get(`${ROOT}/allocations/?parent_request=${a.id}`).set('X-Auth-Token', ADMIN_TOKEN)).body.results[0];
    const current = (await t.http.get(`${ROOT}/allocations/${a.id}/`).set('X-Auth-Token', ADMIN_TOKEN)).body;
    if (quota.status === 201) {
      // The quota got in first: the snapshot and the approved record both carry it.
      expect(snapshot.quotas).toHaveLength(1);
      expect(current.quotas).toHaveLength(1);
    } else {
      expect(quota.status).toBe(409);
      expect(current.quotas).toHaveLength(0);
    }
  });
});
