import { MetricCounts } from '../../src/reports/ops/metric-counts.service';
import { MetricsService } from '../../src/reports/ops/metrics.service';
import { SourceSeenRecorder } from '../../src/reports/ops/source-seen.recorder';
import { RollupDrainer } from '../../src/reports/rollups/rollup-drainer.service';
import { until } from './processes';
import { TestApp } from './test-app';

/**
 * Almanach and rollup helpers for the reports suites: history is written
 * through the Almanach HTTP API (the triggers mark dirty keys as in
 * production) and the rollups are drained with the worker's own code.
 */
export function almanach(t: TestApp, token: string) {
  const send = (method: 'post' | 'put' | 'delete', url: string, body: Record<string, unknown>, status: number) =>
    t.http[method](url).set('X-Auth-Token', token).set('Content-Type', 'application/json').send(body).expect(status);
  return {
    createInstance: (project: string, id: string, createdAt: string, flavor: string | null = 'm1.small') =>
      send('post', `/v1/project/${project}/instance`, { id, created_at: createdAt, name: `name-${id}`, flavor, os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }, 201),
    resizeInstance: (id: string, date: string, flavor: string) => send('put', `/v1/instance/${id}/resize`, { date, flavor }, 200),
    deleteInstance: (id: string, date: string) => send('delete', `/v1/instance/${id}`, { date }, 202),
    createVolume: (project: string, id: string, start: string, size: number, volumeType: string) =>
      send('post', `/v1/project/${project}/volume`, { volume_id: id, start, volume_type: volumeType, size, volume_name: `vol-${id}`, attached_to: [] }, 201),
    resizeVolume: (id: string, date: string, size: number) => send('put', `/v1/volume/${id}/resize`, { date, size }, 200),
    deleteVolume: (id: string, date: string) => send('delete', `/v1/volume/${id}`, { date }, 202),
  };
}

/** Every page of `GET /reports/usage?query`, `limit` lines a page, following `next_cursor` to the end (each answer's body). */
export async function usagePages(t: TestApp, token: string, query: string, limit: number): Promise<Record<string, any>[]> {
  const pages: Record<string, any>[] = [];
  for (let cursor: string | null = null, i = 0; i === 0 || cursor; i++) {
    const url: string = `/reports/usage?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Record<string, any> = (await t.http.get(url).set('X-Auth-Token', token).expect(200)).body;
    pages.push(page);
    cursor = page.next_cursor;
  }
  return pages;
}

/**
 * Runs the rollup worker's drain until no dirty key or range is left. A
 * batch that finds every key taken (SKIP LOCKED: another process's drain
 * has them) answers 0 before those keys are rated, and a range another
 * process is expanding is skipped the same way, so this also waits until
 * both tables are empty: every dirty key's rating has then committed,
 * whoever drained it.
 */
export async function drainRollups(t: TestApp, timeoutMs = 60_000): Promise<number> {
  const drainer = t.app.get(RollupDrainer);
  let total = await drainer.drainAll();
  await until(
    'report_dirty_key and report_dirty_range to be empty',
    async () => {
      total += await drainer.drainAll();
      const [{ left }] = await t.runtime.dataSource.query(
        `SELECT (SELECT count(*)::int FROM report_dirty_key) + (SELECT count(*)::int FROM report_dirty_range) AS left`,
      );
      return left === 0;
    },
    timeoutMs,
    20,
  );
  return total;
}

/**
 * The rows of report_source_seen once there are at least `n`: they are
 * written after the answer (the recorder's onResponse hook), so a test waits
 * for them; throws when they are not there within `timeoutMs`.
 */
export async function seenRows(t: TestApp, n: number, timeoutMs = 10_000): Promise<{ source: string; site: string; collector: string }[]> {
  let rows: { source: string; site: string; collector: string }[] = [];
  await until(
    `${n} row(s) in report_source_seen`,
    async () => {
      rows = await t.runtime.dataSource.query(`SELECT source, site, collector FROM report_source_seen ORDER BY 1, 2, 3`);
      return rows.length >= n;
    },
    timeoutMs,
    20,
  );
  return rows;
}

/**
 * Empties the database under a running app with the ops counters' in-memory
 * state: what the previous test counted is flushed first (so it cannot land
 * after the reset), the once-per-second freshness throttle and the scrape
 * cache are forgotten.
 */
export async function resetWithOps(t: TestApp): Promise<void> {
  await t.app.get(MetricCounts).flush();
  t.app.get(SourceSeenRecorder).forgetWrites();
  t.app.get(MetricsService).forgetCache();
  await t.reset();
}
