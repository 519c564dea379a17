import { DataSource } from 'typeorm';
import { ReportJobRegistry } from '../../src/reports/jobs/report-job-registry';
import { PermanentJobError } from '../../src/reports/jobs/report-job-runner.service';
import { ReportJobRepository } from '../../src/reports/jobs/report-job.repository';
import { ReportJobsService } from '../../src/reports/jobs/report-jobs.service';
import { ReportJobsSweeperService } from '../../src/reports/jobs/report-jobs-sweeper.service';
import { newJobId } from '../../src/reports/jobs/job-id';
import { startUsageApp } from '../support/amie';
import { ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * Report jobs (reports.md 4.7): the three routes with every error, paging
 * (1.6), roles (1.2), and the runner behind them: chunks, progress with
 * eta_seconds, cancel at a chunk boundary, resume from the stored cursor,
 * failure after the last attempt, and the sweeper. The runner is exercised
 * through kinds registered by the test on the service's own registry (issue
 * 10's kinds register the same way); consistency checks have their own suite.
 */

interface CountScope {
  chunks: number;
  /** Chunk number (1-based) at which the handler waits for the test to open its gate. */
  holdAt?: number;
}
interface CountCursor {
  next: number;
}
interface CountResult {
  seen: number[];
}

/** Test hooks of the `test.count` kind. */
const hooks = {
  reached: undefined as undefined | (() => void),
  gate: undefined as undefined | Promise<void>,
};

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('report jobs (/admin/reports/jobs)', () => {
  let t: TestApp;
  let jobs: ReportJobsService;
  let attempts = 0;

  beforeAll(async () => {
    // One retry delay of 1 ms: a job failing on every attempt ends failed at once.
    t = await startUsageApp({ QUEUE_RETRY_DELAY_MS: '1' });
    jobs = t.app.get(ReportJobsService, { strict: false });
    const registry = t.app.get(ReportJobRegistry, { strict: false });
    registry.register<CountScope, CountCursor, CountResult>('test.count', {
      plan: async (job) => ({ total: job.scope.chunks * 10, cursor: { next: 1 }, result: { seen: [] } }),
      chunk: async (job) => {
        const n = job.cursor.next;
        if (job.scope.holdAt === n && hooks.gate) {
          hooks.reached?.();
          await hooks.gate;
        }
        return { cursor: n >= job.scope.chunks ? null : { next: n + 1 }, done: 10, result: { seen: [...job.result.seen, n] } };
      },
    });
    registry.register('test.flaky', {
      plan: async () => ({ total: 1, cursor: {}, result: {} }),
      chunk: async () => {
        attempts++;
        throw new Error('the source is unreachable');
      },
    });
    registry.register('test.refused', {
      plan: async () => {
        throw new PermanentJobError('scope names no day');
      },
      chunk: async () => ({ cursor: null, done: 0, result: {} }),
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const admin = {
    get: (url: string) => t.http.get(url).set('X-Auth-Token', ADMIN_TOKEN),
    post: (url: string) => t.http.post(url).set('X-Auth-Token', ADMIN_TOKEN),
  };

  async function settled(id: string, timeoutMs = 20_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await admin.get(`/admin/reports/jobs/${id}`).expect(200);
      if (['succeeded', 'failed', 'cancelled'].includes(res.body.state)) return res.body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  describe('running a job', () => {
    it('runs every chunk, then answers the job succeeded with its progress and result', async () => {
      const created = await jobs.create({ kind: 'test.count', scope: { chunks: 3 }, createdBy: 'ops', reason: 'nightly' });
      expect(created).toMatchObject({ id: expect.stringMatching(/^job_[0-9A-Z]{26}$/), state: 'queued', progress: { total: null, done: 0, ratio: null, eta_seconds: null } });
      const job = await settled(created.id);
      expect(job).toEqual({
        id: created.id,
        kind: 'test.count',
        state: 'succeeded',
        reason: 'nightly',
        created_at: expect.stringMatching(ISO),
        created_by: 'ops',
        started_at: expect.stringMatching(ISO),
        finished_at: expect.stringMatching(ISO),
        scope: { chunks: 3 },
        progress: { total: 30, done: 30, ratio: '1.000000', eta_seconds: 0 },
        result: { seen: [1, 2, 3] },
        error: null,
      });
      expect(Date.parse(job.finished_at)).toBeGreaterThanOrEqual(Date.parse(job.started_at));
    });

    it('gives a ratio and an eta while running, and stops at the next chunk boundary when cancelled', async () => {
      let open!: () => void;
      hooks.gate = new Promise<void>((r) => (open = r));
      const reached = new Promise<void>((r) => (hooks.reached = r));
      try {
        const created = await jobs.create({ kind: 'test.count', scope: { chunks: 1000, holdAt: 3 }, createdBy: 'ops' });
        await reached;
        // Chunk 3 is running: chunks 1 and 2 are stored. (On embedded PostgreSQL the
        // chunk's transaction holds the one connection, so the request waits for it.)
        const cancelling = admin.post(`/admin/reports/jobs/${created.id}/cancel`).then((res) => res);
        await new Promise((r) => setTimeout(r, 50));
        open();
        const res = await cancelling;
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: created.id, state: 'cancelling', finished_at: null });
        expect(res.body.progress.done).toBeGreaterThanOrEqual(30);
        expect(res.body.progress.eta_seconds).toEqual(expect.any(Number));
        expect(res.body.progress.ratio).toMatch(/^0\.\d{6}$/);
        const job = await settled(created.id);
        expect(job.state).toBe('cancelled');
        expect(job.finished_at).toMatch(ISO);
        // Finished chunks stay, in order; the job stopped long before its end.
        expect(job.result.seen.slice(0, 3)).toEqual([1, 2, 3]);
        expect(job.progress.done).toBe(job.result.seen.length * 10);
        expect(job.result.seen.length).toBeLessThan(1000);
        expect(job.progress.eta_seconds).toBeNull();
        // A finished job cannot be cancelled.
        const again = await admin.post(`/admin/reports/jobs/${created.id}/cancel`).expect(409);
        expect(again.body).toEqual({ error: `job ${created.id} has already finished (cancelled)` });
      } finally {
        hooks.gate = undefined;
        hooks.reached = undefined;
        open?.();
      }
    });

    it('cancels a job that has not started at once', async () => {
      const repo = t.app.get(ReportJobRepository, { strict: false });
      // Stored but not queued (as when the enqueue was lost).
      const row = await repo.insert({ id: newJobId(), kind: 'test.count', reason: null, createdBy: 'ops', scope: { chunks: 2 } });
      const res = await admin.post(`/admin/reports/jobs/${row.id}/cancel`).expect(200);
      expect(res.body).toMatchObject({ state: 'cancelled', finished_at: expect.stringMatching(ISO), started_at: null });
      // The sweeper leaves it alone: a cancelled job owes nothing.
      await t.app.get(ReportJobsSweeperService, { strict: false }).sweep(0);
      await t.app.get(DataSource).query('SELECT 1');
      expect((await admin.get(`/admin/reports/jobs/${row.id}`).expect(200)).body.state).toBe('cancelled');
      await admin.post(`/admin/reports/jobs/${row.id}/cancel`).expect(409);
    });

    it('resumes a job from its stored cursor, keeping the result of the chunks before it', async () => {
      const repo = t.app.get(ReportJobRepository, { strict: false });
      const db = t.app.get(DataSource);
      // A job that crashed after its second chunk: running, cursor at chunk 3, no queue job.
      const row = await repo.insert({ id: newJobId(), kind: 'test.count', reason: null, createdBy: 'ops', scope: { chunks: 5 } });
      await db.query(
        `UPDATE report_job SET state = 'running', started_at = now() - interval '10 seconds', progress_total = 50, progress_done = 20,
           cursor = '{"next": 3}', result = '{"seen": [1, 2]}' WHERE id = $1`,
        [row.id],
      );
      const before = await admin.get(`/admin/reports/jobs/${row.id}`).expect(200);
      // 20 units in 10 s: the 30 left take 15 s more (and a little, for the time this request took).
      expect(before.body.progress).toEqual({ total: 50, done: 20, ratio: '0.400000', eta_seconds: expect.any(Number) });
      expect(before.body.progress.eta_seconds).toBeGreaterThanOrEqual(15);
      expect(before.body.progress.eta_seconds).toBeLessThanOrEqual(18);
      await t.app.get(ReportJobsSweeperService, { strict: false }).sweep(0);
      const job = await settled(row.id);
      expect(job).toMatchObject({ state: 'succeeded', progress: { total: 50, done: 50 }, result: { seen: [1, 2, 3, 4, 5] } });
    });

    it('sweeps a queued job whose queue job is missing, and leaves recent ones to their own job', async () => {
      const repo = t.app.get(ReportJobRepository, { strict: false });
      const row = await repo.insert({ id: newJobId(), kind: 'test.count', reason: null, createdBy: 'ops', scope: { chunks: 1 } });
      const sweeper = t.app.get(ReportJobsSweeperService, { strict: false });
      await sweeper.sweep(30);
      await new Promise((r) => setTimeout(r, 200));
      expect((await admin.get(`/admin/reports/jobs/${row.id}`).expect(200)).body.state).toBe('queued');
      await sweeper.sweep(0);
      expect((await settled(row.id)).state).toBe('succeeded');
    });

    it('ends failed with the error after the last attempt', async () => {
      attempts = 0;
      const created = await jobs.create({ kind: 'test.flaky', scope: {}, createdBy: 'ops' });
      const job = await settled(created.id, 30_000);
      expect(job).toMatchObject({ state: 'failed', error: 'the source is unreachable', finished_at: expect.stringMatching(ISO) });
      expect(attempts).toBe(8);
      await admin.post(`/admin/reports/jobs/${created.id}/cancel`).expect(409);
    });

    it('ends failed at once when the handler refuses the scope, or no handler runs the kind', async () => {
      const refused = await jobs.create({ kind: 'test.refused', scope: {}, createdBy: 'ops' });
      expect(await settled(refused.id)).toMatchObject({ state: 'failed', error: 'scope names no day', progress: { total: null, done: 0 } });
      const unknown = await jobs.create({ kind: 'test.unknown', scope: {}, createdBy: 'ops' });
      expect(await settled(unknown.id)).toMatchObject({ state: 'failed', error: 'no handler for job kind test.unknown in this process' });
    });
  });

  describe('GET /admin/reports/jobs', () => {
    it('answers an empty list', async () => {
      const res = await admin.get('/admin/reports/jobs').expect(200);
      expect(res.body).toEqual({ jobs: [], next_cursor: null });
    });

    it('lists newest first, filters by kind and state, and pages with a cursor bound to the filters', async () => {
      const repo = t.app.get(ReportJobRepository, { strict: false });
      const db = t.app.get(DataSource);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const row = await repo.insert({ id: newJobId(), kind: i % 2 ? 'rerate' : 'consistency_check', reason: null, createdBy: 'ops', scope: { i } });
        ids.push(row.id);
      }
      // Two jobs created in the same microsecond are ordered by id.
      await db.query(`UPDATE report_job SET created_at = (SELECT created_at FROM report_job WHERE id = $1) WHERE id = $2`, [ids[3], ids[4]]);
      await db.query(`UPDATE report_job SET state = 'succeeded' WHERE id = ANY($1)`, [[ids[0], ids[2]]]);
      const all = await admin.get('/admin/reports/jobs').expect(200);
      const newestFirst = [ids[4], ids[3], ids[2], ids[1], ids[0]];
      expect(all.body.jobs.map((j: { id: string }) => j.id)).toEqual(newestFirst);
      expect(all.body.next_cursor).toBeNull();

      const paged: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { body: { jobs: { id: string }[]; next_cursor: string | null } } = await admin
          .get(`/admin/reports/jobs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
          .expect(200);
        paged.push(...res.body.jobs.map((j) => j.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(paged).toEqual(newestFirst);
      expect(pages).toBe(3);

      const checks = await admin.get('/admin/reports/jobs?kind=consistency_check').expect(200);
      expect(checks.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[2], ids[0]]);
      const done = await admin.get('/admin/reports/jobs?kind=consistency_check&state=succeeded&limit=1').expect(200);
      expect(done.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2]]);
      expect(done.body.next_cursor).toEqual(expect.any(String));
      const next = await admin.get(`/admin/reports/jobs?kind=consistency_check&state=succeeded&limit=5&cursor=${done.body.next_cursor}`).expect(200);
      expect(next.body).toEqual({ jobs: [expect.objectContaining({ id: ids[0] })], next_cursor: null });

      // The cursor binds the filters.
      const other = await admin.get(`/admin/reports/jobs?kind=rerate&cursor=${done.body.next_cursor}`).expect(400);
      expect(other.body).toEqual({ error: 'cursor: belongs to a query with other parameters', fields: { cursor: 'belongs to a query with other parameters' } });
    });

    it.each([
      ['limit=10001', 'limit: must be a whole number from 1 to 10000'],
      ['limit=0', 'limit: must be a whole number from 1 to 10000'],
      ['limit=ten', 'limit: must be a whole number from 1 to 10000'],
      ['limit=1.5', 'limit: must be a whole number from 1 to 10000'],
      ['limit=1&limit=2', 'limit: must be a whole number from 1 to 10000'],
      ['kind=backup', 'kind: must be one of rerate, correction, consistency_check, close_period'],
      ['state=done', 'state: must be one of queued, running, cancelling, succeeded, failed, cancelled'],
      ['grop_by=kind', 'grop_by: not a known parameter'],
      ['cursor=bm90IGEgY3Vyc29y', 'cursor: is not a cursor of this report'],
      ['cursor=%25%25', 'cursor: is not a cursor of this report'],
      // A cursor of the reports' format whose key is not a job position.
      [`cursor=${Buffer.from(JSON.stringify({ q: 'x', k: ['2025-01-01', 'y'] })).toString('base64url')}`, 'cursor: belongs to a query with other parameters'],
    ])('answers 400 for %s', async (query, error) => {
      const res = await admin.get(`/admin/reports/jobs?${query}`).expect(400);
      expect(res.body.error).toBe(error);
      const [field, rule] = error.split(': ');
      expect(res.body.fields).toEqual(expect.objectContaining({ [field]: rule }));
    });

    it('names every field at fault, an unknown parameter first, then in the order of the parameters', async () => {
      const res = await admin.get('/admin/reports/jobs?limit=20000&kind=x&colour=red').expect(400);
      expect(res.body).toEqual({
        error: 'colour: not a known parameter',
        fields: {
          colour: 'not a known parameter',
          kind: 'must be one of rerate, correction, consistency_check, close_period',
          limit: 'must be a whole number from 1 to 10000',
        },
      });
      const known = await admin.get('/admin/reports/jobs?limit=20000&kind=x').expect(400);
      expect(known.body.error).toBe('kind: must be one of rerate, correction, consistency_check, close_period');
    });

    it('accepts limit 10000', async () => {
      await admin.get('/admin/reports/jobs?limit=10000').expect(200);
    });
  });

  describe('GET /admin/reports/jobs/{id} and cancel', () => {
    it.each(['job_00000000000000000000000000', 'nothing', '%20'])('answers 404 for an unknown id %p', async (id) => {
      const res = await admin.get(`/admin/reports/jobs/${id}`).expect(404);
      expect(res.body).toEqual({ error: `job ${decodeURIComponent(id)} not found` });
      const cancel = await admin.post(`/admin/reports/jobs/${id}/cancel`).expect(404);
      expect(cancel.body).toEqual({ error: `job ${decodeURIComponent(id)} not found` });
    });
  });

  describe('roles (reports.md 1.2)', () => {
    it('answers 401 without a token or with an unknown one, 403 to every role but admin', async () => {
      const created = await jobs.create({ kind: 'test.count', scope: { chunks: 1 }, createdBy: 'ops' });
      await settled(created.id);
      const routes: [string, string][] = [
        ['get', '/admin/reports/jobs'],
        ['get', `/admin/reports/jobs/${created.id}`],
        ['post', `/admin/reports/jobs/${created.id}/cancel`],
      ];
      const tokens = { reader: await t.token('reader'), service: await t.token('service'), user: await t.token('user', { projectIds: ['p1'] }) };
      for (const [method, url] of routes) {
        const call = () => (method === 'get' ? t.http.get(url) : t.http.post(url));
        const none = await call().expect(401);
        expect(none.body).toEqual({ error: expect.any(String) });
        await call().set('X-Auth-Token', 'not-a-token').expect(401);
        for (const [role, token] of Object.entries(tokens)) {
          const res = await call().set('X-Auth-Token', token);
          expect({ role, url, status: res.status }).toEqual({ role, url, status: 403 });
          expect(res.body).toEqual({ error: expect.any(String) });
        }
      }
      // The admin still sees the job as it was: nobody else could cancel it.
      expect((await admin.get(`/admin/reports/jobs/${created.id}`).expect(200)).body.state).toBe('succeeded');
    });
  });
});
