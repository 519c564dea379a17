import { randomUUID } from 'node:crypto';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { realServers, TestApp } from '../support/test-app';
import { openTestWorker, TestWorker } from '../support/test-worker';

/**
 * The late-data horizon where a worker process loads AMIE batches
 * (reports.md 5.4): the API only stores and queues (worker: false); the
 * WorkerModule, booted as `npm run start:worker` boots it, must refuse the
 * record beyond the horizon and load the rest. Needs a database and a queue
 * both processes share.
 */
const shared = realServers.database && realServers.redis;
if (!shared) console.log('reports-horizon-worker e2e: skipped, it needs DATABASE_URL and REDIS_URL (an API and a worker sharing the database and the queue)');
const maybe = shared ? describe : describe.skip;

const DAY = 86_400_000;
const daysAgo = (n: number, extraMs = 0) => new Date(Date.now() - n * DAY + extraMs).toISOString();

maybe('late-data horizon in the worker process', () => {
  let api: TestApp | undefined;
  let worker: TestWorker | undefined;
  afterEach(async () => {
    await worker?.close();
    await api?.close();
  });

  it('WorkerModule refuses a compute record beyond the horizon and loads the rest of its message', async () => {
    const env = { QUEUE_PREFIX: `test-horizon-${randomUUID()}`, LATE_HORIZON_DAYS: '400', REPORT_TIME_ZONE: 'UTC' };
    api = await startUsageApp(env, { worker: false });
    worker = await openTestWorker(env);
    await api.reset();
    await worker.start();
    const site = await createSite(api, 'site-w');
    const old = { SubmitTime: daysAgo(401, -3_600_000), StartTime: daysAgo(401, -1_800_000), EndTime: daysAgo(401) };
    await api.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, old), compute(2)] }).expect(200);
    await waitLoaded(api);
    const [entry] = (await api.http.get('/amie/usage/status').set(site.headers).expect(200)).body;
    expect(entry).toMatchObject({ LoadedRecordCount: 1, FailedJobCount: 1 });
    expect(entry.Errors).toEqual([expect.objectContaining({ Error: 'EndTime: older than the late-data horizon', UsageType: 'Compute', RecordCount: 1 })]);
  });
});
