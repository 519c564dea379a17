import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../../src/queue/job-payloads';
import { startUsageApp } from '../support/amie';
import { almanach, drainRollups } from '../support/reports';
import { buildDist, startDist, stopProcess as stop, jobProgress, killWhileHoldingJob, until } from '../support/processes';
import { ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * A report job killed in the middle resumes from its stored cursor
 * (reports.md 4.7) with real processes: a worker is SIGKILLed between two
 * chunks of a consistency check, another worker picks the stalled queue job
 * up, and the job ends with every project-day counted exactly once. Needs
 * PostgreSQL and Redis: the processes share them.
 */
const real = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const maybe = real ? describe : describe.skip;
if (!real) console.log('reports-jobs-durability: skipped, it needs DATABASE_URL and REDIS_URL (real worker processes share them)');

function startWorker(env: Record<string, string | undefined>): ChildProcess {
  return startDist('worker', env);
}

maybe('report jobs durability (real processes)', () => {
  let t: TestApp;
  let prefix: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    buildDist();
  }, 300_000);
  beforeEach(async () => {
    prefix = `test-report-jobs-${randomUUID()}`;
    // The API only: the workers are other processes.
    t = await startUsageApp({ QUEUE_PREFIX: prefix, REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' }, { worker: false });
    await t.reset();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await stop(child, 'SIGKILL');
    await t.close();
  });

  it('resumes a consistency check from its last finished chunk after its worker is SIGKILLed', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('zz-1', 'i1', '2025-01-01T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-03-01T00:00:00Z');
    await drainRollups(t);
    await t.runtime.dataSource.query(`UPDATE report_usage_day_cell SET quantity = 1 WHERE project_id = 'zz-1' AND day = '2025-02-10'`);
    // 1,000 projects × 365 days: several hundred chunks; the one with data comes last (byte order).
    const projects = [...Array.from({ length: 999 }, (_, i) => `p-${String(i).padStart(4, '0')}`), 'zz-1'];

    const env = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL, QUEUE_PREFIX: prefix, REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' };
    const first = startWorker(env);
    children.push(first);
    const created = await t.http
      .post('/admin/reports/consistency-checks')
      .set('X-Auth-Token', ADMIN_TOKEN)
      .send({ start: '2025-01-01', end: '2026-01-01', project_ids: projects })
      .expect(202);
    const id: string = created.body.id;
    const row = () => jobProgress(t.runtime.dataSource, id);

    await until('the first chunks to finish', async () => (await row()).done > 0, 60_000, 5);
    const queue = new Queue(QUEUE_NAME, { connection: t.runtime.queue.redis!, prefix });
    try {
      // Killed while its next chunk waits on the job row inside its transaction.
      const held = await killWhileHoldingJob(t.runtime.dataSource, id, () => stop(first, 'SIGKILL'));
      expect(held.state).toBe('running');
      expect(held.total).toBe(1000 * 365);
      expect(held.done).toBeGreaterThan(0);
      expect(held.done).toBeLessThan(held.total);
      expect(await row()).toEqual(held);
      expect(await queue.getJobState(id)).toBe('active');

      // Another worker finds the stalled queue job (its lock expired) and resumes it.
      children.push(startWorker(env));
      await until('the job to finish', async () => ['succeeded', 'failed'].includes((await row()).state), 120_000, 100);
      const job = (await t.http.get(`/admin/reports/jobs/${id}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body;
      expect(job).toMatchObject({ state: 'succeeded', progress: { total: 1000 * 365, done: 1000 * 365, ratio: '1.000000' } });
      // Every project-day once: zz-1's 59 day cells and its two month cells; the altered day
      // cell is one I1 mismatch, and its month no longer sums up (I3).
      expect(job.result).toMatchObject({
        cells_checked: 59 + 2,
        mismatch_count: 2,
        mismatches: [
          expect.objectContaining({ invariant: 'I1', project_id: 'zz-1', day: '2025-02-10', stored: '1', recomputed: '86400.000000' }),
          expect.objectContaining({ invariant: 'I3', cell: 'month', project_id: 'zz-1', day: '2025-02-01' }),
        ],
      });
    } finally {
      await queue.close();
    }
  }, 240_000);
});
