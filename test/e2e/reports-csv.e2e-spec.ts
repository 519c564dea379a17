import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { almanach, drainRollups } from '../support/reports';
import { realServers, useTestApp } from '../support/test-app';
import { parseCsv } from '../support/csv';
import { createPriceList } from '../support/pricing';

/**
 * The usage report as CSV (reports.md §1.7, §13.8): the same rows as the
 * JSON answer, field for field, in the same order; on PostgreSQL, a session
 * ended under the route's export is a broken transfer. The export machinery
 * itself (chunking, slots, aborted transfers) is held by
 * reports-export.e2e-spec.ts.
 */

const asCsvField = (value: unknown) => (value === null ? '' : String(value));

describe('GET /reports/usage as CSV (reports.md §1.7, §13.8)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC', REPORT_CURRENCY: 'EUR' });
  let token: string;

  beforeEach(async () => {
    token = await t.token('reader');
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a,"quoted"');
    await a.resizeInstance('i1', '2025-03-10T12:00:00.500Z', 'b');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
    await a.createInstance('p2', 'i2', '2025-03-05T06:00:00Z', 'b');
    await a.deleteInstance('i2', '2025-03-06T00:00:00Z');
    // A sized flavor known by an alias ('b'), priced in EUR: derived meters and cost columns in the file too.
    await t.http
      .put('/admin/reports/flavors/big')
      .set('X-Auth-Token', await t.token('admin', { name: 'ops' }))
      .send({ vcpus: 2, ram_mb: 1024, disk_gb: 10, aliases: ['b'] })
      .expect(201);
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: 'big', unit_price: '0.1', price_unit: 'hour', valid_from: '2025-01-01' }],
    });
    await drainRollups(t);
  });

  it('answers the JSON rows field for field, in order, with the §3.1 columns and the file name of §1.7', async () => {
    // Groupings with and without each of project, site, key and subkey: the CSV's ORDER BY leaves out the sort parts of an ungrouped column.
    for (const query of [
      'period=2025-03',
      'period=2025-03&granularity=day&group_by=project_id,flavor',
      'period=2025-03&granularity=day&group_by=key',
      'period=2025-03&group_by=site,subkey',
      'start=2025-03-05T12:00:00Z&end=2025-03-10T12:00:00.750Z&group_by=site',
      'period=2025-03&granularity=day&group_by=project_id,flavor&currency=EUR',
      'start=2025-03-05T12:00:00Z&end=2025-03-10T12:00:00.750Z&group_by=project_id,key&currency=EUR',
    ]) {
      const json = await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', token).expect(200);
      const csv = await t.http.get(`/reports/usage?${query}&format=csv`).set('X-Auth-Token', token).buffer(true).parse((res, done) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done(null, body));
      });
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-length']).toBeUndefined();
      const [header, ...records] = parseCsv(csv.body as string);
      expect(header).toEqual(['period_start', 'period_end', 'period', 'line_type', 'applies_to_period', 'project_id', 'site', 'source', 'meter', 'key', 'subkey', 'unit', 'quantity', 'quantity_hours', 'unsized', 'currency', 'unit_price', 'price_unit', 'cost', 'priced']);
      const expected = json.body.rows.map((row: Record<string, unknown>) => header.map((column) => asCsvField(column === 'currency' ? json.body.currency : row[column])));
      expect(records).toEqual(expected);
      expect(records.length).toBeGreaterThan(0);
      // The alias maps to the catalogue's flavor, with its derived meters.
      const grouped = new URLSearchParams(query).get('group_by')?.split(',') ?? ['project_id', 'key', 'subkey'];
      if (grouped.includes('flavor') || grouped.includes('key')) expect(records.some((r) => r[9] === 'big' && r[8] === 'instance.vcpu')).toBe(true);
      if (query.includes('currency=EUR')) expect(records.some((r) => r[15] === 'EUR' && r[18] !== '')).toBe(true);
    }
    const named = await t.http.get('/reports/usage?period=2025-03&format=csv').set('X-Auth-Token', token);
    expect(named.headers['content-disposition']).toBe('attachment; filename="usage-2025-03.csv"');
    const cut = await t.http.get('/reports/usage?start=2025-03-05T12:00:00Z&end=2025-03-10T12:00:00.750Z').set('Accept', 'text/csv').set('X-Auth-Token', token);
    expect(cut.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(cut.headers['content-disposition']).toBe('attachment; filename="usage-20250305T120000Z--20250310T120000Z.csv"');
  });

  it('has the header for an empty result, a BOM with bom=1, and refuses paging parameters', async () => {
    const empty = await t.http.get('/reports/usage?period=2024-03&format=csv').set('X-Auth-Token', token).expect(200);
    expect(empty.text).toBe(
      'period_start,period_end,period,line_type,applies_to_period,project_id,site,source,meter,key,subkey,unit,quantity,quantity_hours,unsized,currency,unit_price,price_unit,cost,priced\r\n',
    );
    const bom = await t.http.get('/reports/usage?period=2024-03&format=csv&bom=1').set('X-Auth-Token', token).expect(200);
    expect(bom.text.startsWith('\ufeffperiod_start,')).toBe(true);
    const paged = await t.http.get('/reports/usage?period=2025-03&format=csv&limit=10').set('X-Auth-Token', token).expect(400);
    expect(paged.body).toEqual({ error: 'limit: not accepted with CSV: an export has no pages', fields: { limit: 'not accepted with CSV: an export has no pages' } });
    await t.http.get('/reports/usage?period=2025-03&format=xml').set('X-Auth-Token', token).expect(400);
  });

  it('keeps a user to its projects in the file too', async () => {
    const user = await t.token('user', { name: 'u1', projectIds: ['p2'] });
    const res = await t.http.get('/reports/usage?period=2025-03&format=csv').set('X-Auth-Token', user).expect(200);
    const [, ...records] = parseCsv(res.text);
    expect(new Set(records.map((r) => r[5]))).toEqual(new Set(['p2']));
    await t.http.get('/reports/usage?period=2025-03&format=csv&project_id=p1').set('X-Auth-Token', user).expect(403);
  });
});

describe('GET /reports/usage?format=csv when the database session dies mid-stream (reports.md §1.7, §13.8; PostgreSQL)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
  const real = realServers.database ? it : it.skip;
  if (!realServers.database) console.log('reports-csv mid-stream failure through /reports/usage skipped: pg_terminate_backend needs real PostgreSQL (set DATABASE_URL)');

  real('is a broken transfer, never a short file that looks complete', async () => {
    const db = t.runtime.dataSource;
    // 400 projects × 365 days of day cells (their month cells too, as the drain keeps them): 146,000 CSV lines by day.
    await db.query(
      `INSERT INTO report_usage_day_cell (project_id, site, day, meter, key, subkey, quantity, items, summed)
       SELECT 'p' || lpad(p::text, 3, '0'), 'cloud', d::date, 'instance.time', 'm1.small', '', 86400, 1, 86400
       FROM generate_series(1, 400) AS p, generate_series(date '2025-01-01', date '2025-12-31', interval '1 day') AS d`,
    );
    await db.query(
      `INSERT INTO report_usage_month_cell (project_id, site, month, meter, key, subkey, quantity, cells)
       SELECT project_id, site, date_trunc('month', day)::date, meter, key, subkey, sum(quantity), count(*) FROM report_usage_day_cell GROUP BY 1, 2, 3, 4, 5, 6`,
    );
    const token = await t.token('reader');
    await t.app.listen(0, '127.0.0.1');
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    const admin = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'csv-usage-test' });
    await admin.connect();
    let terminated = -1;
    try {
      const answer = await new Promise<{ status: number; body: string; complete: boolean }>((resolve) => {
        const req = httpRequest(
          { agent: false, host: '127.0.0.1', port, path: '/reports/usage?period=2025&granularity=day&group_by=project_id,key&format=csv', headers: { 'X-Auth-Token': token } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.pause();
            res.on('data', (chunk: string) => (body += chunk));
            res.on('error', () => undefined);
            res.on('close', () => resolve({ status: res.statusCode!, body, complete: res.complete }));
            // The export's session (in its snapshot, its statement begun: the only one of this app not idle) is ended from outside while the client holds the transfer.
            setTimeout(() => {
              admin
                .query(
                  `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'usage-ledger' AND state <> 'idle' AND query LIKE '%FROM report_clock%') killed`,
                )
                .then(({ rows }) => (terminated = rows[0].n))
                // A failure here shows as `terminated` still -1; the transfer is read to its end either way.
                .catch(() => undefined)
                .finally(() => res.resume());
            }, 500);
          },
        );
        req.on('error', () => undefined);
        req.end();
      });
      expect(terminated).toBe(1);
      expect(answer.status).toBe(200);
      // Aborted: the chunked body never ended, so no client can take what came as the whole file.
      expect(answer.complete).toBe(false);
      const lines = answer.body.split('\r\n');
      expect(lines[0]).toMatch(/^period_start,period_end,period,line_type,/);
      expect(lines.length).toBeLessThan(1 + 400 * 365);
    } finally {
      await admin.end();
    }
    // The pool serves the next report.
    const after = await t.http.get('/reports/usage?period=2025-01&project_id=p001&group_by=').set('X-Auth-Token', token).expect(200);
    expect(after.body.rows.map((r: Record<string, string>) => r.quantity)).toEqual(['2678400.000000']);
  });
});
