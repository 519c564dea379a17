import { action, createAllocation } from '../support/allocation-fixtures';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { almanach, drainRollups } from '../support/reports';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * GET /reports/projects (reports.md §3.3) and GET /reports/periods (§3.4),
 * through the front door, in an accounting zone with DST (Europe/Berlin).
 */
describe('GET /reports/projects and /reports/periods (reports.md §3.3, §3.4)', () => {
  let t: TestApp;
  let reader: string;
  let service: string;

  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'Europe/Berlin' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    reader = await t.token('reader');
    service = await t.token('service');
  });

  const get = (path: string, token = reader) => t.http.get(path).set('X-Auth-Token', token);
  /** Today's date and month in Berlin. */
  const berlinToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

  /**
   * p1: an instance over Berlin days 2025-03-05 … 2025-04-02 (day cells);
   * p2: an AMIE record attributed now (a today cell); p3: an allocation only;
   * p4: a deleted allocation (not listed).
   */
  async function seed() {
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-04-02T00:00:00Z');
    const site = await createSite(t, 'site-a');
    const now = Date.now();
    const res = await t.http
      .post('/amie/usage')
      .set(site.headers)
      .send({ UsageType: 'Compute', Records: [compute(1, { LocalProjectID: 'p2', SubmitTime: new Date(now - 120_000).toISOString(), StartTime: new Date(now - 60_000).toISOString(), EndTime: new Date(now - 1000).toISOString() })] })
      .expect(200);
    expect(res.body.ValidationFailedRecords).toEqual([]);
    await waitLoaded(t);
    await drainRollups(t);
    await createAllocation(t, ADMIN_TOKEN, { project_name: 'alloc-three', project_id: 'p3' });
    const gone = await createAllocation(t, ADMIN_TOKEN, { project_name: 'alloc-four', project_id: 'p4' });
    await action(t, ADMIN_TOKEN, gone.id, 'delete').expect(200);
    const named = await createAllocation(t, ADMIN_TOKEN, { project_name: 'alloc-one', project_id: 'p1' });
    return { allocationOfP1: named.id as number };
  }

  describe('GET /reports/projects', () => {
    it('lists every project with a usage cell or a current allocation, sorted, with first and last usage days', async () => {
      const { allocationOfP1 } = await seed();
      const res = await get('/reports/projects').expect(200);
      const today = berlinToday();
      expect(res.body).toEqual({
        role: 'reader',
        time_zone: 'Europe/Berlin',
        projects: [
          { project_id: 'p1', name: 'alloc-one', allocation_id: allocationOfP1, first_usage: '2025-03-05', last_usage: '2025-04-02' },
          { project_id: 'p2', name: null, allocation_id: null, first_usage: today, last_usage: today },
          { project_id: 'p3', name: 'alloc-three', allocation_id: expect.any(Number), first_usage: null, last_usage: null },
        ],
        next_cursor: null,
      });
      const admin = await get('/reports/projects', await t.token('admin')).expect(200);
      expect(admin.body.role).toBe('admin');
      expect(admin.body.projects).toEqual(res.body.projects);
    });

    it('pages by project_id: limit=1 pages are the unpaged list; a foreign cursor is a 400', async () => {
      await seed();
      const whole = await get('/reports/projects').expect(200);
      const pages: unknown[] = [];
      let cursor: string | null = null;
      let calls = 0;
      do {
        const res: { body: { projects: unknown[]; next_cursor: string | null; role: string } } = await get(
          `/reports/projects?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        ).expect(200);
        expect(res.body.projects).toHaveLength(1);
        pages.push(...res.body.projects);
        cursor = res.body.next_cursor;
        calls++;
      } while (cursor && calls < 10);
      expect(calls).toBe(3);
      expect(pages).toEqual(whole.body.projects);
      const detail = await get('/reports/usage/entities?period=2025-03&limit=1').expect(200);
      const foreign = await get(`/reports/projects?cursor=${encodeURIComponent(detail.body.next_cursor)}`).expect(400);
      expect(foreign.body).toEqual({ error: expect.stringMatching(/^cursor: /), fields: { cursor: expect.any(String) } });
      expect((await get('/reports/projects?cursor=xyz').expect(400)).body.error).toBe('cursor: is not a cursor of this report');
    });

    it('gives a user token its own projects, with or without data, unpaged', async () => {
      const { allocationOfP1 } = await seed();
      const user = await t.token('user', { userId: 'u1', projectIds: ['p9', 'p1'] });
      const res = await get('/reports/projects?limit=1', user).expect(200);
      expect(res.body).toEqual({
        role: 'user',
        time_zone: 'Europe/Berlin',
        projects: [
          { project_id: 'p1', name: 'alloc-one', allocation_id: allocationOfP1, first_usage: '2025-03-05', last_usage: '2025-04-02' },
          { project_id: 'p9', name: null, allocation_id: null, first_usage: null, last_usage: null },
        ],
        next_cursor: null,
      });
      const none = await t.token('user', { userId: 'u2', projectIds: [] });
      expect((await get('/reports/projects', none).expect(200)).body).toEqual({ role: 'user', time_zone: 'Europe/Berlin', projects: [], next_cursor: null });
    });

    it.each([
      ['grop_by=project_id', 'grop_by: not a known parameter'],
      ['limit=0', 'limit: must be a whole number between 1 and 10000'],
      ['limit=10001', 'limit: must be a whole number between 1 and 10000'],
      ['limit=many', 'limit: must be a whole number between 1 and 10000'],
    ])('%s → 400 %s', async (query, error) => {
      expect((await get(`/reports/projects?${query}`).expect(400)).body).toEqual({ error, fields: expect.any(Object) });
    });

    it('answers 401 without a token or with an unknown one', async () => {
      expect((await t.http.get('/reports/projects').expect(401)).body).toEqual({ error: expect.any(String) });
      await get('/reports/projects', 'unknown').expect(401);
    });
  });

  describe('GET /reports/periods', () => {
    /** Month labels from `from` (YYYY-MM) to the current Berlin month, newest first. */
    const monthsBack = (from: string) => {
      const [y, m] = berlinToday().split('-').map(Number);
      const labels: string[] = [];
      for (let year = y, month = m; `${year}-${String(month).padStart(2, '0')}` >= from; month === 1 ? ((month = 12), year--) : month--) {
        labels.push(`${year}-${String(month).padStart(2, '0')}`);
      }
      return labels;
    };

    it('lists the months of REPORT_TIME_ZONE from the first with data to the current one, newest first, all open', async () => {
      await seed();
      const res = await get('/reports/periods').expect(200);
      expect(Object.keys(res.body)).toEqual(['periods']);
      expect(res.body.periods.map((p: { period: string }) => p.period)).toEqual(monthsBack('2025-03'));
      const march = res.body.periods[res.body.periods.length - 1];
      expect(march).toEqual({
        period: '2025-03',
        start: '2025-02-28T23:00:00.000Z',
        end: '2025-03-31T22:00:00.000Z',
        state: 'open',
        closed_at: null,
        closed_by: null,
        auto_close_at: null,
      });
      expect(res.body.periods[res.body.periods.length - 2]).toMatchObject({ period: '2025-04', start: '2025-03-31T22:00:00.000Z', end: '2025-04-30T22:00:00.000Z' });
      for (const p of res.body.periods) expect(p).toMatchObject({ state: 'open', closed_at: null, closed_by: null, auto_close_at: null });
    });

    it('gives only the current period when there is no data, and narrows the first period to a user token’s projects', async () => {
      expect((await get('/reports/periods').expect(200)).body.periods.map((p: { period: string }) => p.period)).toEqual(monthsBack(berlinToday().slice(0, 7)));
      await seed();
      const p1 = await t.token('user', { userId: 'u1', projectIds: ['p1'] });
      expect((await get('/reports/periods', p1).expect(200)).body.periods.map((p: { period: string }) => p.period)).toEqual(monthsBack('2025-03'));
      const p2 = await t.token('user', { userId: 'u2', projectIds: ['p2'] });
      expect((await get('/reports/periods', p2).expect(200)).body.periods.map((p: { period: string }) => p.period)).toEqual([berlinToday().slice(0, 7)]);
    });

    it('refuses any query parameter with 400, and answers 401 without a token', async () => {
      expect((await get('/reports/periods?period=2025-03').expect(400)).body).toEqual({ error: 'period: not a known parameter', fields: { period: 'not a known parameter' } });
      expect((await get('/reports/periods?a=1&b=2').expect(400)).body).toEqual({ error: 'a: not a known parameter', fields: { a: 'not a known parameter', b: 'not a known parameter' } });
      expect((await t.http.get('/reports/periods?x=1').expect(401)).body).toEqual({ error: expect.any(String) });
      await get('/reports/periods', 'unknown').expect(401);
    });
  });
});
