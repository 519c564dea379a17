import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { QUEUE_NAME } from '../../src/queue/job-payloads';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { buildDist, distEnv, freePort, startBuilt, startDist as startProcess, stopProcess, until, untilLockWaiters } from '../support/processes';
import { ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * "Nothing accepted is lost" (amie-usage.md 5.2) with real processes: a
 * worker killed by SIGKILL in the middle of a job, an API restarted after
 * Redis lost its jobs, and an API without Redis killed with work queued.
 * Needs PostgreSQL and Redis: the processes share the database.
 */
const real = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const maybe = real ? describe : describe.skip;
if (!real) console.log('amie-usage-durability: skipped, it needs DATABASE_URL and REDIS_URL (real worker processes share them)');

const batchOf = (message: number, size: number) => ({
  UsageType: 'Compute',
  Records: Array.from({ length: size }, (_, i) => compute(`${message}-${i}`)),
});

maybe('AMIE usage durability (real processes)', () => {
  let t: TestApp;
  let prefix: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    // The worker and API processes run the compiled code.
    buildDist();
  }, 300_000);

  beforeEach(async () => {
    prefix = `test-amie-kill-${randomUUID()}`;
    t = await startUsageApp({ QUEUE_PREFIX: prefix }, { worker: false });
    await t.reset();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await stopProcess(child, 'SIGKILL');
    await t.close();
  });

  const loadedRows = async (db: TestApp) => {
    const [{ n }] = await db.runtime.dataSource.query(`SELECT count(*)::int AS n FROM amie_usage_record`);
    return n as number;
  };

  it('loads every record when a worker is killed by SIGKILL in the middle of a job', async () => {
    const site = await createSite(t, 'site-kill');
    const messages = 6;
    const size = 1000;
    for (let m = 0; m < messages; m++) {
      const res = await t.http.post('/amie/usage/').set(site.headers).send(batchOf(m, size));
      expect(res.body.QueuedRecordCount).toBe(size);
    }
    const [{ id: held }] = await t.runtime.dataSource.query(`SELECT min(id)::text AS id FROM amie_usage_batch`);

    // Hold the first batch's row so that the worker's job on it blocks inside its transaction.
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM amie_usage_batch WHERE id = $1 FOR UPDATE', [held]);

    const env = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL, QUEUE_PREFIX: prefix };
    const first = startProcess('worker', env);
    children.push(first);
    const queue = new Queue(QUEUE_NAME, { connection: t.runtime.queue.redis!, prefix });
    try {
      // The worker is in the middle of the held job when it is killed.
      await until('the held job to be active', async () => (await queue.getJobState(`usage-batch-${held}`)) === 'active');
      await untilLockWaiters(t.runtime.dataSource, 1, 'the worker to wait on the held row inside its transaction');
      await stopProcess(first, 'SIGKILL');
      expect(first.signalCode).toBe('SIGKILL');
      await holder.query('COMMIT');
      const [{ state }] = await t.runtime.dataSource.query(`SELECT state FROM amie_usage_batch WHERE id = $1`, [held]);
      expect(state).toBe('pending');
      expect(await queue.getJobState(`usage-batch-${held}`)).toBe('active');

      // Another worker finds the stalled job (its lock expired) and loads it.
      children.push(startProcess('worker', env));
      await until('every record to load', async () => (await loadedRows(t)) === messages * size, 90_000);
      await waitLoaded(t);
      expect(await queue.getFailedCount()).toBe(0);
    } finally {
      await holder.end().catch(() => undefined);
      await queue.close();
    }
  }, 150_000);

  it('loads what was accepted when Redis lost its jobs, once the API restarts', async () => {
    const site = await createSite(t, 'site-redis');
    for (let m = 0; m < 3; m++) await t.http.post('/amie/usage/').set(site.headers).send(batchOf(m, 100)).expect(200);
    // Redis restarted without its data: this prefix's keys are gone.
    const queue = new Queue(QUEUE_NAME, { connection: t.runtime.queue.redis!, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
    await t.close();
    // The restarted API sweeps pending batches into the queue; a worker loads them.
    t = await startUsageApp({ QUEUE_PREFIX: prefix });
    await waitLoaded(t);
    expect(await loadedRows(t)).toBe(300);
  }, 60_000);

  const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (real && !redisServer) console.log('amie-usage-durability: the Redis restart test skipped, it needs redis-server installed (a private Redis is restarted)');
  (redisServer ? it : it.skip)('loads every record across a Redis restart with AOF (as in docker-compose.yml)', async () => {
    // A private Redis (the shared one must not restart), configured like docker-compose.yml.
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'amie-redis-'));
    const startRedis = () => {
      const child = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], {
        stdio: 'ignore',
      });
      children.push(child);
      return child;
    };
    const redisUrl = `redis://127.0.0.1:${port}`;
    const ping = async () => {
      const probe = new (await import('ioredis')).default(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    };
    let redis = startRedis();
    await until('the private Redis', ping, 10_000);
    const app = await startUsageApp({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix }, { worker: false });
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      const site = await createSite(app, 'site-aof');
      // Loading blocks on this lock, so the jobs are still in Redis when it restarts.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE amie_usage_record IN SHARE MODE');
      // Its output is kept (at info) for the failure message: this test has timed out under full-CI load, untraced.
      const worker = startBuilt('worker', distEnv({ LOG_LEVEL: 'info', DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix }));
      children.push(worker.child);
      const messages = 6;
      for (let m = 0; m < messages; m++) await app.http.post('/amie/usage/').set(site.headers).send(batchOf(m, 200)).expect(200);
      await new Promise((r) => setTimeout(r, 1500)); // one AOF fsync (everysec)
      await stopProcess(redis, 'SIGKILL');
      redis = startRedis();
      await until('Redis to come back', ping, 10_000);
      const queue = new Queue(QUEUE_NAME, { connection: app.runtime.queue.redis!, prefix });
      try {
        // The jobs came back from the AOF (the sweeper did not re-create them).
        await until('the queue connection', async () => (await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children').catch(() => null)) !== null, 10_000);
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(messages);
        await holder.query('COMMIT');
        // As long as the queue's own retries may take (JOB_ATTEMPTS with exponential backoff: 1 + 2 + … + 64 s):
        // under load, attempts made while Redis restarted can fail and wait their backoff. 60 s timed out twice in
        // CI (2026-12-01) while every run alone loaded within 4 s; not traced further (see the note of that day).
        await until('every record to load', async () => (await loadedRows(app)) === messages * 200, 150_000).catch(async (error: Error) => {
          const jobs = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed').catch((e: Error) => e.message);
          const output = `${worker.stdout()}${worker.stderr()}`;
          throw new Error(
            `${error.message}: ${await loadedRows(app)} of ${messages * 200} loaded; jobs ${JSON.stringify(jobs)}; the worker (${worker.child.exitCode ?? 'running'}) logged, last 8 KB:\n${output.slice(-8000)}`,
          );
        });
        await waitLoaded(app);
      } finally {
        await queue.close();
      }
    } finally {
      await holder.end().catch(() => undefined);
      // Close while the private Redis still answers (closing cleans its keys).
      if (redis.exitCode === null && redis.signalCode === null) await app.close();
      else await app.runtime.close().catch(() => undefined);
      for (const child of children.splice(0)) await stopProcess(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('without REDIS_URL, loads after a restart what an API killed by SIGKILL had accepted', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: process.env.DATABASE_URL, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN };
    let api = startProcess('main', env);
    children.push(api);
    const base = `http://127.0.0.1:${port}`;
    await until('the API to listen', async () => fetch(`${base}/health`).then((r) => r.ok, () => false), 30_000);
    const created = await fetch(`${base}/admin/sites`, {
      method: 'POST',
      headers: { 'X-Auth-Token': ADMIN_TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'site-crash' }),
    }).then((r) => r.json() as Promise<{ api_key: string }>);
    const headers = { 'XA-SITE': 'site-crash', 'XA-API-KEY': created.api_key, 'Content-Type': 'application/json' };
    const messages = 8;
    const size = 1000;
    // Loading blocks on this lock (submission does not touch the ledger), so
    // every accepted batch is still in the in-process queue when the API dies.
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE amie_usage_record IN SHARE MODE');
      for (let m = 0; m < messages; m++) {
        const res = await fetch(`${base}/amie/usage/`, { method: 'POST', headers, body: JSON.stringify(batchOf(m, size)) });
        expect(res.status).toBe(200);
      }
      await stopProcess(api, 'SIGKILL');
      expect(api.signalCode).toBe('SIGKILL');
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    const [{ pending }] = await t.runtime.dataSource.query(`SELECT count(*)::int AS pending FROM amie_usage_batch WHERE state = 'pending'`);
    expect(pending).toBe(messages);
    expect(await loadedRows(t)).toBe(0);

    api = startProcess('main', env);
    children.push(api);
    await until('every record to load after the restart', async () => (await loadedRows(t)) === messages * size, 60_000);
    await waitLoaded(t);
  }, 120_000);
});
