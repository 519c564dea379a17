import { MetricCounts } from '../../src/reports/ops/metric-counts.service';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { parsePrometheusText, valueOf } from '../support/prometheus-text';
import { until } from '../support/processes';
import { almanach, drainRollups, seenRows, resetWithOps } from '../support/reports';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, TestApp } from '../support/test-app';
import { createPriceList, jobFinished } from '../support/pricing';
import { MetricsService } from '../../src/reports/ops/metrics.service';

/**
 * The table of reports.md §9.1, as the contract names its series (two series
 * sharing a row are listed one by one), with their types and label names, in
 * two lists whose union is the table: what is served today, and what waits
 * for a later issue with the reason. Serving a deferred series means moving
 * its line from DEFERRED to SERVED; the test fails until it is moved.
 * (The `events` queue of `ledger_queue_jobs` waits for the budgets issue too.)
 */
const SERVED: Record<string, { type: string; labels: string[] }> = {
  ledger_source_last_event_timestamp_seconds: { type: 'gauge', labels: ['source', 'site', 'collector'] },
  ledger_source_last_event_age_seconds: { type: 'gauge', labels: ['source', 'site', 'collector'] },
  ledger_source_silent: { type: 'gauge', labels: ['source', 'site', 'collector'] },
  ledger_ingest_total: { type: 'counter', labels: ['source', 'site', 'outcome'] },
  ledger_amie_failed_records: { type: 'gauge', labels: ['site'] },
  ledger_queue_jobs: { type: 'gauge', labels: ['queue', 'state'] },
  ledger_queue_oldest_waiting_age_seconds: { type: 'gauge', labels: ['queue'] },
  ledger_rollup_dirty_keys: { type: 'gauge', labels: [] },
  ledger_rollup_lag_seconds: { type: 'gauge', labels: [] },
  ledger_rollup_batches_total: { type: 'counter', labels: [] },
  ledger_rollup_batch_duration_seconds: { type: 'histogram', labels: [] },
  ledger_day_roll_last_timestamp_seconds: { type: 'gauge', labels: [] },
  ledger_rollup_mismatches_total: { type: 'counter', labels: ['invariant'] },
  ledger_report_duration_seconds: { type: 'histogram', labels: ['route', 'format', 'level'] },
  ledger_report_rows_total: { type: 'counter', labels: ['route', 'format'] },
  ledger_job_progress_ratio: { type: 'gauge', labels: ['kind'] },
  ledger_rerate_jobs: { type: 'gauge', labels: ['state'] },
  ledger_unsized_flavors: { type: 'gauge', labels: [] },
  ledger_unpriced_cells: { type: 'gauge', labels: ['meter'] },
  ledger_default_partition_rows: { type: 'gauge', labels: ['table'] },
  ledger_http_requests_total: { type: 'counter', labels: ['mount', 'method', 'status_class'] },
  ledger_http_request_duration_seconds: { type: 'histogram', labels: ['mount', 'method', 'status_class'] },
};
const DEFERRED: Record<string, { type: string; labels: string[]; reason: string }> = {
  ledger_budget_events_total: { type: 'counter', labels: ['type', 'threshold'], reason: 'budgets and their threshold events come with the budgets issue (reports.md §6)' },
  ledger_webhook_deliveries_total: { type: 'counter', labels: ['outcome'], reason: 'webhook delivery of budget events comes with the budgets issue (reports.md 6.7)' },
  ledger_webhook_pending: { type: 'gauge', labels: [], reason: 'webhook delivery of budget events comes with the budgets issue (reports.md 6.7)' },
};
/** Named by §9.1 below its table: the collector's counter (collector.md §6); plus prom-client's defaults. */
const ALSO_SERVED: Record<string, string> = { ledger_notifications_total: 'counter' };

/**
 * `GET /metrics` (reports.md §9.1), parsed as Prometheus would: no
 * credential, every series of the contract's table but the deferred ones
 * (SERVED, DEFERRED above), a silent source
 * flips ledger_source_silent, and no seeded project id or user name appears.
 */
describe('GET /metrics (reports.md §9.1)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startUsageApp({ CLOUD_SITE: 'cloud-m', SOURCE_SILENCE_SECONDS: '900' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await resetWithOps(t);
  });

  const scrape = async () => {
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return { text: res.text, families: parsePrometheusText(res.text) };
  };
  const flush = () => t.app.get(MetricCounts).flush();
  const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

  /** Seeds identifiable project ids and user names through every ingest path. */
  async function seed() {
    const service = await t.token('service', { name: 'nova-writer' });
    const a = almanach(t, service);
    await a.createInstance('proj-secret-4711', 'inst-1', hourAgo());
    await a.createInstance('proj-user-0815', 'inst-2', hourAgo());
    // A user token reads its own project's report.
    const user = await t.token('user', { userId: 'alice-secret-user', projectIds: ['proj-user-0815'], name: 'user-token' });
    await t.http.get('/reports/usage?start=2020-01-01T00:00:00Z&end=2030-01-01T00:00:00Z').set('X-Auth-Token', user).expect(200);
    const site = await createSite(t, 'site-m');
    await t.http
      .post('/amie/usage')
      .set(site.headers)
      .send({ UsageType: 'Compute', Records: [compute(1, { Username: 'bob-secret-user', LocalProjectID: 'TG-SECRET-99' }), compute(2, { Username: 'carol-secret-user', LocalProjectID: 'TG-SECRET-98', Charge: '-1' })] })
      .expect(200);
    await createSite(t, 'site-quiet');
    await t.runtime.dataSource.query(`INSERT INTO notification_counts (event_type, outcome, count) VALUES ('compute.instance.create.end', 'processed', 7)`);
    await waitLoaded(t);
    await seenRows(t, 2);
    await t.http.get('/reports/usage?start=2020-01-01T00:00:00Z&end=2030-01-01T00:00:00Z').set('X-Auth-Token', await t.token('reader'));
  }

  it("answers without a credential, in the 0.0.4 text format, with every series of the contract's table but the deferred ones", async () => {
    await seed();
    const { families } = await scrape();
    // Every series the contract lists is served with its type and nothing but its labels (`le` for buckets)…
    for (const [name, { type, labels }] of Object.entries(SERVED)) {
      expect({ name, type: families.get(name)?.type }).toEqual({ name, type });
      const extra = families.get(name)!.samples.flatMap((x) => Object.keys(x.labels).filter((l) => !labels.includes(l) && !(type === 'histogram' && l === 'le')));
      expect({ name, extra }).toEqual({ name, extra: [] });
    }
    // …a deferred one is absent: serving it means moving it from DEFERRED to SERVED…
    for (const name of Object.keys(DEFERRED)) expect({ name, served: families.has(name) }).toEqual({ name, served: false });
    // …and no ledger_ series is served that the contract does not name.
    const named = new Set([...Object.keys(SERVED), ...Object.keys(DEFERRED), ...Object.keys(ALSO_SERVED)]);
    expect([...families.keys()].filter((n) => n.startsWith('ledger_') && !named.has(n))).toEqual([]);
    for (const [name, type] of Object.entries({ ...ALSO_SERVED, process_cpu_user_seconds_total: 'counter', nodejs_heap_size_used_bytes: 'gauge' })) {
      expect({ name, type: families.get(name)?.type }).toEqual({ name, type });
    }
    expect(valueOf(families, 'ledger_queue_jobs', { queue: 'jobs', state: 'waiting' })).toEqual(expect.any(Number));
    expect(families.get('ledger_queue_jobs')!.samples.map((s) => s.labels.state).sort()).toEqual(['active', 'delayed', 'failed', 'waiting']);
    expect(valueOf(families, 'ledger_queue_oldest_waiting_age_seconds', { queue: 'jobs' })).toEqual(expect.any(Number));
    expect(valueOf(families, 'ledger_day_roll_last_timestamp_seconds')).toBeGreaterThan(1.7e9);
    expect(valueOf(families, 'ledger_notifications_total', { event_type: 'compute.instance.create.end', outcome: 'processed' })).toBe(7);
    // A site with no failure shows 0; the other its outstanding failures.
    expect(valueOf(families, 'ledger_amie_failed_records', { site: 'site-m' })).toBe(1);
    expect(valueOf(families, 'ledger_amie_failed_records', { site: 'site-quiet' })).toBe(0);
    // The report route by its pattern, never the path asked.
    const usageCounts = families.get('ledger_report_duration_seconds')!.samples.filter((x) => x.name === 'ledger_report_duration_seconds_count' && x.labels.route === '/reports/usage' && x.labels.format === 'json');
    expect(usageCounts.reduce((sum, x) => sum + x.value, 0)).toBeGreaterThanOrEqual(1);
    expect(usageCounts.every((x) => ['month', 'day', 'site', 'raw'].includes(x.labels.level))).toBe(true);
    expect(families.get('ledger_http_requests_total')!.samples.every((s) => ['almanach', 'amie', 'astakos', 'allocations', 'admin', 'own'].includes(s.labels.mount) && /^[1-5]xx$/.test(s.labels.status_class))).toBe(true);
    expect(valueOf(families, 'ledger_http_requests_total', { mount: 'almanach', method: 'POST', status_class: '2xx' })).toBe(2);
  });

  it('keeps the ingest counters as deployment totals in report_metric_counts', async () => {
    await seed();
    await flush();
    const { families } = await scrape();
    expect(valueOf(families, 'ledger_ingest_total', { source: 'almanach', site: 'cloud-m', outcome: 'accepted' })).toBe(2);
    expect(valueOf(families, 'ledger_ingest_total', { source: 'amie', site: 'site-m', outcome: 'accepted' })).toBe(1);
    expect(valueOf(families, 'ledger_ingest_total', { source: 'amie', site: 'site-m', outcome: 'failed' })).toBe(1);
    const [{ value }] = await t.runtime.dataSource.query(`SELECT value FROM report_metric_counts WHERE metric = 'ledger_ingest_total' AND labels = '{"source": "almanach", "site": "cloud-m", "outcome": "accepted"}'::jsonb`);
    expect(Number(value)).toBe(2);
  });

  it('counts AMIE records loaded, and versions superseded by a later submission of the same record, where the batches load', async () => {
    const site = await createSite(t, 'site-l');
    const submit = (records: Record<string, unknown>[]) => t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: records }).expect(200);
    await submit([compute(1), compute(2)]);
    await waitLoaded(t);
    // Record 1 again with another charge: the new version loads, the stored one is superseded.
    await submit([compute(1, { Charge: '25' })]);
    await waitLoaded(t);
    await flush();
    const { families } = await scrape();
    const ingest = (outcome: string) => valueOf(families, 'ledger_ingest_total', { source: 'amie', site: 'site-l', outcome });
    expect({ accepted: ingest('accepted'), loaded: ingest('loaded'), superseded: ingest('superseded') }).toEqual({ accepted: 3, loaded: 3, superseded: 1 });
    // No record was refused (no horizon here): no refused_horizon series; reports-horizon counts refusals.
    expect(ingest('refused_horizon')).toBeUndefined();
  });

  it('counts the rows each report route answered, by format: the JSON rows, the CSV lines streamed', async () => {
    const service = await t.token('service');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.a');
    await a.createInstance('p2', 'i2', '2025-03-01T00:00:00Z', 'm1.b');
    await a.deleteInstance('i1', '2025-03-03T00:00:00Z');
    await drainRollups(t);
    const reader = await t.token('reader');
    const rowsOf = (families: Awaited<ReturnType<typeof scrape>>['families'], route: string, format: string) => valueOf(families, 'ledger_report_rows_total', { route, format }) ?? 0;
    const before = (await scrape()).families;
    const usage = '/reports/usage?period=2025-03&granularity=day';
    const json = await t.http.get(usage).set('X-Auth-Token', reader).expect(200);
    expect(json.body.rows.length).toBeGreaterThan(2);
    const csv = await t.http.get(`${usage}&format=csv`).set('X-Auth-Token', reader).expect(200);
    const csvLines = csv.text.split('\r\n').filter((l) => l !== '').length - 1;
    expect(csvLines).toBe(json.body.rows.length);
    const entities = await t.http.get('/reports/usage/entities?period=2025-03').set('X-Auth-Token', reader).expect(200);
    const { families } = await scrape();
    expect(families.get('ledger_report_rows_total')?.type).toBe('counter');
    expect(rowsOf(families, '/reports/usage', 'json') - rowsOf(before, '/reports/usage', 'json')).toBe(json.body.rows.length);
    expect(rowsOf(families, '/reports/usage', 'csv') - rowsOf(before, '/reports/usage', 'csv')).toBe(csvLines);
    expect(rowsOf(families, '/reports/usage/entities', 'json') - rowsOf(before, '/reports/usage/entities', 'json')).toBe(entities.body.rows.length);
  });

  it('labels each report answer with the finest cell level it read: month, day, site or raw', async () => {
    const service = await t.token('service');
    await almanach(t, service).createInstance('p1', 'i1', '2025-02-20T00:00:00Z');
    await drainRollups(t);
    const reader = await t.token('reader');
    const count = (families: Awaited<ReturnType<typeof scrape>>['families'], route: string, format: string, level: string) =>
      valueOf(families, 'ledger_report_duration_seconds_count', { route, format, level }) ?? 0;
    const cases: { query: string; route?: string; format?: string; level: string }[] = [
      // A whole booked month of project figures: the month cells.
      { query: '/reports/usage?period=2025-03', level: 'month' },
      { query: '/reports/usage?period=2025-03&format=csv', format: 'csv', level: 'month' },
      // Whole days that are not a whole month: the day cells.
      { query: '/reports/usage?start=2025-03-01T00:00:00Z&end=2025-03-04T00:00:00Z', level: 'day' },
      // Fleet figures (no project in the grouping or the filters): the site-day cells.
      { query: '/reports/usage?period=2025-03&group_by=site', level: 'site' },
      // A whole month and a cut day: the finest level read is raw history.
      { query: '/reports/usage?start=2025-03-01T00:00:00Z&end=2025-04-01T06:00:00Z', level: 'raw' },
      { query: '/reports/usage/entities?period=2025-03', route: '/reports/usage/entities', level: 'raw' },
    ];
    for (const c of cases) {
      const route = c.route ?? '/reports/usage';
      const format = c.format ?? 'json';
      const before = count((await scrape()).families, route, format, c.level);
      await t.http.get(c.query).set('X-Auth-Token', reader).expect(200);
      expect({ query: c.query, level: c.level, answered: count((await scrape()).families, route, format, c.level) - before }).toEqual({ query: c.query, level: c.level, answered: 1 });
    }
  });

  it('a site silent beyond its threshold shows ledger_source_silent 1; the others 0', async () => {
    await seed();
    const before = (await scrape()).families;
    expect(valueOf(before, 'ledger_source_silent', { source: 'amie', site: 'site-m', collector: 'site-m' })).toBe(0);
    await t.runtime.dataSource.query(`UPDATE report_source_seen SET last_event_at = now() - interval '901 seconds' WHERE source = 'amie'`);
    const { families } = await scrape();
    expect(valueOf(families, 'ledger_source_silent', { source: 'amie', site: 'site-m', collector: 'site-m' })).toBe(1);
    expect(valueOf(families, 'ledger_source_last_event_age_seconds', { source: 'amie', site: 'site-m', collector: 'site-m' })).toBeGreaterThan(900);
    expect(valueOf(families, 'ledger_source_silent', { source: 'almanach', site: 'cloud-m', collector: 'nova-writer' })).toBe(0);
    const at = valueOf(families, 'ledger_source_last_event_timestamp_seconds', { source: 'amie', site: 'site-m', collector: 'site-m' })!;
    expect(Math.abs(Date.now() / 1000 - 901 - at)).toBeLessThan(30);
  });

  it('contains no seeded project id and no user name, and only label names of the contract', async () => {
    await seed();
    await drainRollups(t);
    await flush();
    const { text, families } = await scrape();
    for (const secret of ['proj-secret-4711', 'proj-user-0815', 'TG-SECRET-99', 'TG-SECRET-98', 'alice-secret-user', 'bob-secret-user', 'carol-secret-user', 'jdoe', 'inst-1', 'inst-2']) {
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
    }
    const allowed = new Set(['source', 'site', 'collector', 'outcome', 'queue', 'state', 'invariant', 'kind', 'meter', 'event_type', 'route', 'format', 'level', 'mount', 'method', 'status_class', 'le', 'table']);
    for (const family of families.values()) {
      if (!family.name.startsWith('ledger_')) continue;
      for (const sample of family.samples) for (const label of Object.keys(sample.labels)) expect({ metric: sample.name, label, allowed: allowed.has(label) }).toEqual({ metric: sample.name, label, allowed: true });
    }
  });

  it('ledger_rollup_lag_seconds and dirty keys return to 0 once the rollups are drained; the batches are counted', async () => {
    await almanach(t, await t.token('service')).createInstance('p1', 'i1', hourAgo());
    await t.runtime.dataSource.query(`UPDATE report_dirty_key SET first_dirtied_at = now() - interval '42 seconds'`);
    const busy = (await scrape()).families;
    expect(valueOf(busy, 'ledger_rollup_dirty_keys')).toBeGreaterThan(0);
    expect(valueOf(busy, 'ledger_rollup_lag_seconds')).toBeGreaterThanOrEqual(42);
    await drainRollups(t);
    await flush();
    const { families } = await scrape();
    expect(valueOf(families, 'ledger_rollup_dirty_keys')).toBe(0);
    expect(valueOf(families, 'ledger_rollup_lag_seconds')).toBe(0);
    const batches = valueOf(families, 'ledger_rollup_batches_total')!;
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, 'ledger_rollup_batch_duration_seconds_count')).toBe(batches);
    expect(valueOf(families, 'ledger_rollup_batch_duration_seconds_bucket', { le: '+Inf' })).toBe(batches);
  });

  it('counts consistency-check mismatches by invariant', async () => {
    const service = await t.token('service');
    await almanach(t, service).createInstance('p1', 'i1', '2025-03-01T00:00:00Z');
    await almanach(t, service).deleteInstance('i1', '2025-03-03T00:00:00Z');
    await drainRollups(t);
    await t.runtime.dataSource.query(`UPDATE report_usage_day_cell SET quantity = quantity + 1 WHERE day = '2025-03-01'`);
    const res = await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', await t.token('admin')).send({ period: '2025-03' }).expect(202);
    const admin = await t.token('admin');
    await until('the consistency check to finish', async () => ['succeeded', 'failed'].includes((await t.http.get(`/admin/reports/jobs/${res.body.id}`).set('X-Auth-Token', admin).expect(200)).body.state), 30_000);
    const { families } = await scrape();
    expect(valueOf(families, 'ledger_rollup_mismatches_total', { invariant: 'I1' })).toBeGreaterThanOrEqual(1);
  });

  it('counts I4 mismatches (rated cells and their sums) like the other invariants', async () => {
    await createPriceList(t, { name: 'eur', currency: 'EUR', items: [{ meter: 'instance.time', key: '*', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' }] }, { settle: true });
    const service = await t.token('service');
    await almanach(t, service).createInstance('p1', 'i1', '2025-03-01T00:00:00Z');
    await almanach(t, service).deleteInstance('i1', '2025-03-03T00:00:00Z');
    await drainRollups(t);
    // A rated day cell altered by hand: I4 of the cell, and of its month and site-day sums.
    await t.runtime.dataSource.query(`UPDATE report_rated_day_cell SET cost = cost + 1 WHERE day = '2025-03-01' AND superseded_by IS NULL`);
    const admin = await t.token('admin');
    const res = await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', admin).send({ period: '2025-03' }).expect(202);
    let job: Record<string, any> = {};
    await until('the consistency check to finish', async () => ['succeeded', 'failed'].includes((job = (await t.http.get(`/admin/reports/jobs/${res.body.id}`).set('X-Auth-Token', admin).expect(200)).body).state), 30_000);
    expect(job.state).toBe('succeeded');
    expect(job.result.mismatches.map((m: Record<string, string>) => [m.invariant, m.day])).toEqual([['I4', '2025-03-01']]);
    expect(job.result.mismatch_count).toBe(3);
    const { families } = await scrape();
    // Every mismatch the check found is counted, all under I4.
    expect(valueOf(families, 'ledger_rollup_mismatches_total', { invariant: 'I4' })).toBe(job.result.mismatch_count);
    expect(valueOf(families, 'ledger_rollup_mismatches_total', { invariant: 'I1' })).toBeUndefined();
    expect(valueOf(families, 'ledger_rollup_mismatches_total', { invariant: 'I3' })).toBeUndefined();
  });

  it('ledger_unpriced_cells counts, per meter, the booked cells of periods not closed that an applicable price list does not price', async () => {
    // EUR prices m1.a for p1 only: p2 has no list in any currency, so its usage is not counted.
    const eur = await createPriceList(t, { name: 'eur-p1', currency: 'EUR', project_ids: ['p1'], items: [{ meter: 'instance.time', key: 'm1.a', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' }] }, { settle: true });
    const service = await t.token('service');
    const a = almanach(t, service);
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    // p1: m1.a for two days (priced), m1.z on one day of February and one of March, a volume for one day (unpriced).
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.a');
    await a.deleteInstance('i1', '2025-03-03T00:00:00Z');
    await a.createInstance('p1', 'i2', '2025-02-10T00:00:00Z', 'm1.z');
    await a.deleteInstance('i2', '2025-02-10T06:00:00Z');
    await a.createInstance('p1', 'i3', '2025-03-10T00:00:00Z', 'm1.z');
    await a.deleteInstance('i3', '2025-03-10T06:00:00Z');
    await a.createVolume('p1', 'v1', '2025-03-05T00:00:00Z', 10, 'ssd');
    await a.deleteVolume('v1', '2025-03-05T12:00:00Z');
    await a.createInstance('p2', 'i4', '2025-03-01T00:00:00Z', 'm1.z');
    await a.deleteInstance('i4', '2025-03-02T00:00:00Z');
    await drainRollups(t);
    const unpriced = async () => {
      t.app.get(MetricsService).forgetCache();
      const { families } = await scrape();
      expect(families.get('ledger_unpriced_cells')?.samples.map((x) => x.labels.meter).sort()).toEqual(
        ['amie.charge', 'amie.core_time', 'amie.node_time', 'instance.disk', 'instance.ram', 'instance.time', 'instance.vcpu', 'volume.size'].sort(),
      );
      return { time: valueOf(families, 'ledger_unpriced_cells', { meter: 'instance.time' }), volume: valueOf(families, 'ledger_unpriced_cells', { meter: 'volume.size' }), charge: valueOf(families, 'ledger_unpriced_cells', { meter: 'amie.charge' }) };
    };
    expect(await unpriced()).toEqual({ time: 2, volume: 1, charge: 0 });
    // A closed period's cells are frozen: no longer counted.
    const close = await t.http.post('/admin/reports/periods/2025-02/close').set('X-Auth-Token', ADMIN_TOKEN).expect(202);
    await jobFinished(t, close.body.id);
    expect(await unpriced()).toEqual({ time: 1, volume: 1, charge: 0 });
    // A price for every other flavor (its re-rate rates the past days): instance time is priced everywhere.
    const added = await t.http
      .post(`/admin/reports/price-lists/${eur.id}/items`)
      .set('X-Auth-Token', ADMIN_TOKEN)
      .send({ items: [{ meter: 'instance.time', key: '*', subkey: '', unit_price: '0.5', price_unit: 'hour', valid_from: '2025-01-01' }] })
      .expect(201);
    if (added.body.rerate_job) await jobFinished(t, added.body.rerate_job.id);
    await drainRollups(t);
    expect(await unpriced()).toEqual({ time: 0, volume: 1, charge: 0 });
  });

  it('counts re-rate and correction jobs by state, every state present', async () => {
    const admin = await t.token('admin');
    const rerates = async () => {
      const { families } = await scrape();
      expect(families.get('ledger_rerate_jobs')?.type).toBe('gauge');
      const states = ['queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'];
      return Object.fromEntries(states.map((state) => [state, valueOf(families, 'ledger_rerate_jobs', { state })]));
    };
    expect(await rerates()).toEqual({ queued: 0, running: 0, cancelling: 0, succeeded: 0, failed: 0, cancelled: 0 });
    // A price list whose item began in the past queues a rerate job for those days (reports.md 4.2).
    const res = await t.http
      .post('/admin/reports/price-lists')
      .set('X-Auth-Token', admin)
      .send({ name: 'metrics-eur', currency: 'EUR', items: [{ meter: 'instance.time', key: '*', subkey: '', unit_price: '0.05', price_unit: 'hour', valid_from: '2025-01-01' }] })
      .expect(201);
    const jobId = res.body.rerate_job.id as string;
    await until('the rerate job to finish', async () => ['succeeded', 'failed'].includes((await t.http.get(`/admin/reports/jobs/${jobId}`).set('X-Auth-Token', admin).expect(200)).body.state), 30_000);
    const state = (await t.http.get(`/admin/reports/jobs/${jobId}`).set('X-Auth-Token', admin).expect(200)).body.state as string;
    const counts = await rerates();
    expect(counts[state]).toBe(1);
    expect(Object.values(counts).reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(1);
  });

  it('counts the flavors of instance usage that the catalogue does not size', async () => {
    const service = await t.token('service');
    await t.http.put('/admin/reports/flavors/m1.sized').set('X-Auth-Token', await t.token('admin')).set('Content-Type', 'application/json').send(JSON.stringify({ vcpus: 1, ram_mb: 1024, disk_gb: 10, aliases: ['sized-alias'] })).expect(201);
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.sized');
    await a.createInstance('p1', 'i2', '2025-03-01T00:00:00Z', 'sized-alias');
    await a.createInstance('p1', 'i3', '2025-03-01T00:00:00Z', 'm1.unknown');
    await a.createInstance('p2', 'i4', hourAgo(), 'm1.unknown');
    await a.createInstance('p2', 'i5', hourAgo(), 'x1.unknown');
    await a.createInstance('p2', 'i6', hourAgo(), null);
    await drainRollups(t);
    const { families } = await scrape();
    expect(families.get('ledger_unsized_flavors')?.type).toBe('gauge');
    expect(valueOf(families, 'ledger_unsized_flavors')).toBe(2);
  });

  it('answers 400 naming an unknown parameter', async () => {
    expect((await t.http.get('/metrics?name=x').expect(400)).body).toEqual({ error: 'name: not a known parameter', fields: { name: 'not a known parameter' } });
  });
});
