import Decimal from 'decimal.js';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { almanach, drainRollups, usagePages } from '../support/reports';
import { settledJob } from '../support/budget-entries';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';

/**
 * A fleet page grouped by project reads only its first projects
 * (UsageReportRepository.projectSlicePage) and takes its totals from the
 * site-day cells; a page of many days or months reads only its first
 * buckets (bucketSlicePage) and takes its totals from the window as one
 * bucket. Whatever they read, they must answer what the whole statement
 * answers: the same lines on the same pages, the same totals and warnings.
 * The whole statement is asked for through what it alone answers: every
 * project named in `project_id` (a slice of projects is for the fleet
 * only), or the zone spelt `Etc/UTC` (the accounting zone is `UTC`; a
 * slice of buckets is for that zone only) with the same offsets. The history has 42 projects whose ids sort differently in byte
 * order and in a language's order (upper case, punctuation), instances of a
 * catalogued and an unknown flavor, volumes, AMIE charges of several scales
 * at two sites for a fifth of the projects (so that a filter to them leaves
 * most of a slice without a line), and adjustment lines posted in a past
 * month, one of them for a project with no other usage that month, and a
 * project with usage in one month of a two-month window only.
 */

type Row = Record<string, any>;

describe('a page read from its first projects or buckets answers what the whole statement answers (reports.md §3.1, §7.6)', () => {
  let t: TestApp;
  let reader: string;
  const projects: string[] = [];

  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
    await t.reset();
    reader = await t.token('reader');
    await seed();
  }, APP_START_TIMEOUT_MS + 180_000);
  afterAll(async () => {
    await t?.close();
  });

  async function seed(): Promise<void> {
    const service = await t.token('service');
    const a = almanach(t, service);
    await t.http.put('/admin/reports/flavors/m1').set('X-Auth-Token', ADMIN_TOKEN).send({ vcpus: 2, ram_mb: 4096, disk_gb: 20 }).expect(201);
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    const hpcA = await createSite(t, 'hpc-a');
    const hpcB = await createSite(t, 'hpc-b');
    const jobs: Record<string, unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const id = i % 4 === 0 ? `P-${i}` : i % 4 === 1 ? `p_${i}` : i % 4 === 2 ? `a.${i}` : `z${i}`;
      projects.push(id);
      // Instances from May into July (so May and June are whole months of cells), one project in seven of a flavor outside the catalogue.
      await a.createInstance(id, `i-${i}`, `2025-05-0${1 + (i % 9)}T0${i % 10}:00:00Z`, i % 7 === 0 ? 'zz' : 'm1');
      await a.deleteInstance(`i-${i}`, `2025-07-1${i % 10}T12:30:00Z`);
      if (i % 3 === 0) await a.createVolume(id, `v-${i}`, `2025-05-20T00:00:00Z`, 10 + i, 'ssd');
      if (i % 5 === 0) {
        jobs.push(compute(`j-${i}`, { LocalProjectID: id, SubmitTime: '2025-06-10T08:00:00Z', StartTime: '2025-06-10T09:00:00Z', EndTime: '2025-06-10T11:00:00Z', Charge: i % 2 ? '2.5' : '1.125' }));
      }
    }
    // A project with usage in July only: a window of June and July must find it in July's cells.
    await a.createInstance('b-july', 'i-july', '2025-07-05T00:00:00Z', 'm1');
    await a.deleteInstance('i-july', '2025-07-25T00:00:00Z');
    projects.push('b-july');
    await t.http.post('/amie/usage').set(hpcA.headers).send({ UsageType: 'Compute', Records: jobs.slice(0, 4) }).expect(200);
    await t.http.post('/amie/usage').set(hpcB.headers).send({ UsageType: 'Compute', Records: jobs.slice(4) }).expect(200);
    await waitLoaded(t);
    await drainRollups(t);
    // May closed, then late data for it: an instance-day of a project with nothing else in June, and one of P-4.
    const close = await t.http.post('/admin/reports/periods/2025-05/close').set('X-Auth-Token', ADMIN_TOKEN).expect(202);
    expect((await settledJob(t, ADMIN_TOKEN, close.body.id)).state).toBe('succeeded');
    await a.createInstance('late', 'late-1', '2025-05-10T00:00:00Z', 'm1');
    await a.deleteInstance('late-1', '2025-05-11T00:00:00Z');
    await a.createInstance('P-4', 'late-2', '2025-05-12T00:00:00Z', 'zz');
    await a.deleteInstance('late-2', '2025-05-12T06:00:00Z');
    await drainRollups(t);
    projects.push('late');
    // The lines were posted now; as if the late data had come in June (the state a site is in a month after it came).
    const [{ n }] = await t.runtime.dataSource.query(`WITH u AS (UPDATE report_adjustment_line SET posted_at = '2025-06-15T00:00:00Z' RETURNING 1) SELECT count(*)::int AS n FROM u`);
    expect(n).toBeGreaterThan(0);
  }

  /** Every page of the report, `limit` lines a page. */
  const pages = (query: string, limit: number) => usagePages(t, reader, query, limit);

  /** What a page says besides its cursor and the instant it was read. */
  const content = (page: Row) => ({ rows: page.rows, totals: page.totals, warnings: page.warnings, complete: page.complete, window: page.window, group_by: page.group_by });

  const WINDOWS = ['period=2025-06', 'start=2025-06-01&end=2025-08-01', 'period=2025-06&granularity=month', 'period=2025-06&view=live', 'start=2025-06-03T05:00:00Z&end=2025-06-20'];
  const GROUPINGS = ['', '&group_by=project_id', '&group_by=project_id,site'];
  const FILTERS = ['', '&meter=amie.charge', '&flavor=m1', '&site=hpc-b', '&meter=volume.size&meter=instance.vcpu'];

  it('the same pages, totals and warnings in every shape, paged by 1, 7 and 40 lines', async () => {
    const everyProject = projects.map((p) => `&project_id=${encodeURIComponent(p)}`).join('');
    const shapes = WINDOWS.flatMap((w) => GROUPINGS.flatMap((g) => FILTERS.map((f) => ({ query: `${w}${g}${f}`, limit: 40 }))));
    shapes.push({ query: 'period=2025-06', limit: 1 }, { query: 'period=2025-06&group_by=project_id', limit: 7 }, { query: 'period=2025-06&meter=amie.charge', limit: 1 });
    let lines = 0;
    let adjustments = 0;
    for (const { query, limit } of shapes) {
      const fleet = await pages(query, limit);
      const listed = await pages(`${query}${everyProject}`, limit);
      expect({ query, limit, pages: fleet.map(content) }).toEqual({ query, limit, pages: listed.map(content) });
      const rows = fleet.flatMap((page) => page.rows);
      lines += rows.length;
      adjustments += rows.filter((r) => r.line_type === 'adjustment').length;
    }
    // Most shapes have lines; the June pages hold the adjustment lines of the project with no other usage then.
    expect(lines).toBeGreaterThan(5_000);
    expect(adjustments).toBeGreaterThan(50);
    const june = (await pages('period=2025-06', 1000))[0];
    expect(june.rows.filter((r: Row) => r.project_id === 'late').map((r: Row) => r.line_type)).toContain('adjustment');
    expect(june.warnings.map((w: Row) => w.key)).toEqual(['zz']);
    expect(june.totals.by_meter.map((m: Row) => m.meter)).toEqual(['amie.charge', 'amie.core_time', 'amie.node_time', 'instance.disk', 'instance.ram', 'instance.time', 'instance.vcpu', 'volume.size']);
  }, 600_000);

  /** A page's content without what names the zone (the same offsets either way). */
  const zoneless = (page: Row) => ({ ...content(page), window: { ...page.window, tz: null } });

  it('a page of many days or months: the same pages, totals and warnings as the whole statement', async () => {
    const shapes = [
      { query: 'period=2025&granularity=day', limit: 1000 },
      { query: 'start=2025-05-03T07:00:00Z&end=2025-12-01&granularity=day&group_by=key', limit: 100 },
      { query: 'start=2024-01-01&end=2026-11-01&granularity=month&group_by=project_id', limit: 200 },
      { query: 'period=2025&granularity=day&project_id=P-0', limit: 40 },
      { query: 'period=2025&granularity=day&project_id=P-0&project_id=late', limit: 7 },
      { query: 'period=2025&granularity=day&meter=amie.charge', limit: 1 },
      { query: 'period=2025&granularity=day&meter=volume.size&site=cloud', limit: 250 },
      // The last 60 days up to today's midnight: every day booked, so two calls a moment apart answer the same.
      { query: `start=${new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10)}&end=${new Date().toISOString().slice(0, 10)}&granularity=day&group_by=key`, limit: 40 },
      { query: 'period=2025&granularity=day&lines=all&group_by=key', limit: 1000 },
    ];
    let lines = 0;
    for (const { query, limit } of shapes) {
      const sliced = await pages(query, limit);
      const whole = await pages(`${query}&tz=Etc/UTC`, limit);
      expect({ query, limit, pages: sliced.map(zoneless) }).toEqual({ query, limit, pages: whole.map(zoneless) });
      lines += sliced.flatMap((page) => page.rows).length;
    }
    expect(lines).toBeGreaterThan(10_000);
  }, 600_000);

  it('days of another zone while a write is pending: the totals are the sums of the lines', async () => {
    // Not drained: the cells of those days are behind the history, which a day cut by a bucket of another zone reads.
    const a = almanach(t, await t.token('service'));
    await a.createInstance('P-0', 'pending-1', '2025-06-03T00:00:00Z', 'm1');
    await a.deleteInstance('pending-1', '2025-06-09T00:00:00Z');
    const all = await pages('period=2025&granularity=day&tz=Europe/Paris&project_id=P-0&meter=instance.time', 1000);
    expect(all[0].complete).toBe(false);
    const sum = all.flatMap((page) => page.rows).reduce((total: Decimal, r: Row) => total.plus(r.quantity), new Decimal(0));
    expect(all[0].totals.by_meter.map((m: Row) => new Decimal(m.quantity).toString())).toEqual([sum.toString()]);
    await drainRollups(t);
  }, 120_000);
});
