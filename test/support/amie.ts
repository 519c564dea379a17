import { randomUUID } from 'node:crypto';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { ADMIN_TOKEN, startTestApp, TestApp } from './test-app';

/** An AMIE site's credential headers. */
export interface SiteCredentials {
  name: string;
  key: string;
  headers: Record<string, string>;
}

/**
 * The app with a queue prefix of its own (the Redis is shared between runs)
 * and, with REDIS_URL, a real BullMQ worker in this process: the same code
 * that `npm run start:worker` runs. Without REDIS_URL the in-process queue
 * loads the batches.
 */
export async function startUsageApp(overrides: Record<string, string | undefined> = {}, options: { worker?: boolean } = {}): Promise<TestApp> {
  // Nothing of this run is left in the shared Redis: every key under the prefix (the usage queue's and the budget events queue's) goes on close.
  const t = await startTestApp({ QUEUE_PREFIX: `test-amie-${randomUUID()}`, ...overrides }, { dropQueueKeys: true });
  if (options.worker !== false) t.app.get(JobQueueService).startWorker();
  return t;
}

export async function createSite(t: TestApp, name = `site-${randomUUID().slice(0, 8)}`): Promise<SiteCredentials> {
  const res = await t.http.post('/admin/sites').set('X-Auth-Token', ADMIN_TOKEN).send({ name });
  if (res.status !== 201) throw new Error(`site creation failed: ${res.status} ${res.text}`);
  return { name, key: res.body.api_key, headers: { 'XA-SITE': name, 'XA-API-KEY': res.body.api_key } };
}

/** Waits until no accepted batch is pending (every accepted record loaded or failed). */
export async function waitLoaded(t: TestApp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ n }] = await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM amie_usage_batch WHERE state = 'pending'`);
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} batches still pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const HOUR = 3_600_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export function compute(i: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t0 = Date.now() - 3 * HOUR;
  return {
    Username: 'jdoe',
    LocalProjectID: 'TG-ABC123',
    LocalRecordID: `job-${i}`,
    Resource: 'cluster-a',
    SubmitTime: iso(t0),
    StartTime: iso(t0 + 300_000),
    EndTime: iso(t0 + HOUR),
    Charge: '10.5',
    Attributes: { NodeCount: 1, CpuCoreCount: 8, JobName: 'j', Memory: '1024', Queue: 'normal' },
    ParentRecordID: [null],
    ...overrides,
  };
}

export function storage(i: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Username: 'jdoe',
    LocalProjectID: 'TG-ABC123',
    LocalRecordID: `stor-${i}`,
    Resource: 'store-a',
    CollectionTime: iso(Date.now() - HOUR),
    Charge: 100,
    Attributes: { BytesStored: 1073741824, FileCount: 3, CollectionInterval: 1, MediaType: 'disk' },
    ...overrides,
  };
}

export function adjustment(i: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AdjustmentType: 'credit',
    Charge: '5',
    StartTime: iso(Date.now() - HOUR),
    LocalProjectID: 'TG-ABC123',
    LocalRecordID: `adj-${i}`,
    Resource: 'cluster-a',
    Username: 'jdoe',
    Comment: 'why',
    ...overrides,
  };
}
