import { addDays } from '../../src/reports/checks/check-window';
import { NightlyCheckService } from '../../src/reports/checks/nightly-check.service';
import { almanach, drainRollups } from '../support/reports';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { ADMIN_TOKEN, realServers, startTestApp, TestApp } from '../support/test-app';

/**
 * The nightly sampled consistency check (reports.md 7.5): once the day roll
 * has caught up, a `consistency_check` job over CHECK_SAMPLE_PER_NIGHT random
 * project-days of the 31 booked days before the booked day, stored once per
 * booked day, listed and read like any job.
 */
describe('nightly sampled consistency check', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const jobs = async (app: TestApp) => (await app.http.get('/admin/reports/jobs').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body.jobs as Record<string, any>[];
  const nightly = async (app: TestApp) => (await jobs(app)).filter((j) => j.created_by === 'nightly');

  async function settled(app: TestApp, id: string): Promise<Record<string, any>> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await app.http.get(`/admin/reports/jobs/${id}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      if (['succeeded', 'failed', 'cancelled'].includes(res.body.state)) return res.body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A test app whose jobs run (a BullMQ worker with Redis), on an empty database. */
  async function start(overrides: Record<string, string>, reportLoops = false): Promise<TestApp> {
    const app = await startTestApp(overrides, { reportLoops });
    if (realServers.database) await app.reset();
    app.app.get(JobQueueService).startWorker();
    return app;
  }

  const bookedDay = async (app: TestApp) => ((await app.runtime.dataSource.query(`SELECT booked_day::text AS d FROM report_clock`)) as { d: string }[])[0].d;

  it('is queued by the running loops once the day roll has caught up, and only once for a booked day', async () => {
    t = await start({ CHECK_SAMPLE_PER_NIGHT: '500', REPORT_TIME_ZONE: 'UTC' }, true);
    // The first day roll pass runs as the loops start (or 20 s later when the reset above came after it).
    const deadline = Date.now() + 60_000;
    let found: Record<string, any>[] = [];
    while ((found = await nightly(t)).length === 0) {
      if (Date.now() > deadline) throw new Error('no nightly check was queued');
      await new Promise((r) => setTimeout(r, 100));
    }
    const day = await bookedDay(t);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      kind: 'consistency_check',
      reason: 'nightly sampled check',
      scope: { first_day: addDays(day, -31), end_day: day, sample: 500, repair: false, rebuild: false, project_ids: null, nightly_for: day, time_zone: 'UTC' },
    });
    const job = await settled(t, found[0].id);
    expect(job).toMatchObject({ state: 'succeeded', result: { mismatch_count: 0, mismatches: [] } });
    // Another pass for the same booked day stores nothing.
    expect(await t.app.get(NightlyCheckService).schedule()).toBeUndefined();
    expect(await nightly(t)).toHaveLength(1);
  });

  it('finds a day cell altered by hand among the sampled project-days of the last 31 booked days', async () => {
    t = await start({ CHECK_SAMPLE_PER_NIGHT: '1000', REPORT_TIME_ZONE: 'UTC' });
    const day = await bookedDay(t);
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', `${addDays(day, -3)}T00:00:00Z`, 'm1.small');
    await a.deleteInstance('i1', `${addDays(day, -1)}T00:00:00Z`);
    // Outside the window: never sampled.
    await a.createInstance('p2', 'i2', `${addDays(day, -60)}T00:00:00Z`, 'm1.small');
    await a.deleteInstance('i2', `${addDays(day, -50)}T00:00:00Z`);
    await drainRollups(t);
    await t.runtime.dataSource.query(
      `UPDATE report_usage_day_cell SET quantity = quantity + 1 WHERE project_id = 'p1' AND day = $1 AND meter = 'instance.time'`,
      [addDays(day, -2)],
    );

    const id = await t.app.get(NightlyCheckService).schedule();
    expect(id).toEqual(expect.any(String));
    const job = await settled(t, id!);
    expect(job.state).toBe('succeeded');
    // p1's two project-days are all the window holds.
    expect(job.progress).toMatchObject({ total: 2 });
    expect(job.result.mismatches).toContainEqual(
      expect.objectContaining({ invariant: 'I1', project_id: 'p1', day: addDays(day, -2), meter: 'instance.time', stored: '86401.000000', recomputed: '86400.000000' }),
    );
  });

  it('is off with CHECK_SAMPLE_PER_NIGHT=0, and a bad value stops the start naming the variable', async () => {
    t = await start({ CHECK_SAMPLE_PER_NIGHT: '0' }, true);
    // The loops have run a day roll pass by the time the app answers; give them one more.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await nightly(t)).toEqual([]);
    await t.close();
    t = undefined;
    await expect(startTestApp({ CHECK_SAMPLE_PER_NIGHT: '-1' })).rejects.toThrow('CHECK_SAMPLE_PER_NIGHT must be a whole number, at least 0');
    await expect(startTestApp({ CHECK_SAMPLE_PER_NIGHT: 'lots' })).rejects.toThrow('CHECK_SAMPLE_PER_NIGHT must be a whole number, at least 0');
  });
});
