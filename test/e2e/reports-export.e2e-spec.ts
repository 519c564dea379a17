import { Controller, DynamicModule, Get, Headers, Module, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ERROR_STATUS } from '../../src/composition';
import { CoreModule, CoreResources } from '../../src/core/core.module';
import { GlobalExceptionFilter } from '../../src/http/global-exception.filter';
import { RouteTable } from '../../src/http/route-table';
import { CsvExportModule } from '../../src/reports/export/csv-export.module';
import { CsvExportService } from '../../src/reports/export/csv-export.service';
import { negotiateFormat } from '../../src/reports/export/csv-negotiation';
import { APP_START_TIMEOUT_MS, realServers, startTestApp, TestApp } from '../support/test-app';

/**
 * The CSV export machinery (reports.md 1.7) on the real database — embedded
 * PGlite by default, PostgreSQL with DATABASE_URL — through a controller of
 * this test only, so that batch size, row count and a failing row are in the
 * test's hands. The report routes' own CSV answers are tested in
 * reports-csv.e2e-spec.ts.
 */

/** Rows of every kind the formatter meets: integers, numeric as text, booleans, nulls, quoting, dates, a nested object. */
const ROWS_SQL = `
  SELECT i AS n,
         (i * 0.1)::numeric(20, 6)::text AS quantity,
         (i * 2)::numeric AS raw_numeric,
         i % 2 = 0 AS even,
         CASE WHEN i % 3 = 0 THEN NULL WHEN i % 4 = 0 THEN E'line\\nbreak' ELSE 'name, ' || i || E'\\n"q"' END AS label,
         timestamptz '2025-03-01T00:00:00Z' + i * interval '1.5 seconds' AS at,
         DATE '2025-03-01' + i AS day,
         jsonb_build_object('start', 'p' || i, 'end', NULL) AS period,
         repeat('x', $2::int) AS pad
    FROM generate_series(1, $1::int) AS i
   ORDER BY i`;
const COLUMNS = ['n', 'quantity', 'raw_numeric', 'even', 'label', 'at', 'day', 'period.start', 'period.end'];

/** Rows mapped by the test routes; the back-pressure test reads it. */
const mapped = { count: 0 };

@Controller('reports/test')
class ExportTestController {
  constructor(private readonly exports: CsvExportService) {}

  @Get('rows')
  rows(@Query() q: Record<string, string>, @Headers('accept') accept?: string) {
    const format = negotiateFormat({ format: q.format as 'csv' | 'json' | undefined, limit: q.limit, cursor: q.cursor }, accept);
    if (format === 'json') return { rows: [] };
    const failAt = q.fail_at ? Number(q.fail_at) : undefined;
    return this.exports.stream({
      route: 'test/rows',
      window: q.period ? { period: q.period, start: new Date(0), end: new Date(1) } : { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-03-02T12:30:00.250Z') },
      sql: q.bad_sql ? 'SELECT nope FROM nowhere' : ROWS_SQL,
      params: [Number(q.n ?? 5), Number(q.pad ?? 0)],
      columns: q.bad_column ? [...COLUMNS, 'missing'] : COLUMNS,
      row: (row) => {
        mapped.count++;
        if (row.n === failAt) throw new Error(`row ${failAt} cannot be formatted`);
        return row;
      },
      bom: q.bom === '1',
      batchSize: q.batch ? Number(q.batch) : undefined,
      settings: q.bad_setting ? { no_such_setting_at_all: 'x' } : { jit: 'off', 'application_name': 'usage-ledger' },
    });
  }
}

@Module({})
class ExportTestModule {
  static forRoot(resources: CoreResources): DynamicModule {
    return { module: ExportTestModule, imports: [CoreModule.forRoot(resources, []), CsvExportModule], controllers: [ExportTestController] };
  }
}

interface RawAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  /** The transfer ended properly (the final chunk arrived). */
  complete: boolean;
  error?: string;
}

describe('CSV export machinery (reports.md 1.7)', () => {
  let t: TestApp;
  let app: NestFastifyApplication;
  let port: number;
  let exportsService: CsvExportService;
  const MAX = 2;

  beforeAll(async () => {
    t = await startTestApp({ REPORT_MAX_EXPORTS: String(MAX) });
    expect(ERROR_STATUS['reports.export_busy']).toBe(429);
    app = await NestFactory.create<NestFastifyApplication>(ExportTestModule.forRoot(t.runtime), new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new GlobalExceptionFilter(new RouteTable(), ERROR_STATUS));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.getHttpServer().address() as AddressInfo).port;
    exportsService = app.get(CsvExportService);
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });
  beforeEach(() => {
    mapped.count = 0;
  });

  /** Reads a whole answer, noting whether the chunked body ended properly. */
  function get(path: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
    return new Promise((resolve) => {
      const req = httpRequest({ agent: false, host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        let complete = false;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => (complete = res.complete));
        res.on('error', () => undefined);
        res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), complete: complete && res.complete }));
      });
      req.on('error', (error) => resolve({ status: 0, headers: {}, body: '', complete: false, error: error.message }));
      req.end();
    });
  }

  /** The database answers again and every slot is free: the export gave its connection back. */
  async function expectReleased(): Promise<void> {
    for (let i = 0; i < 100 && exportsService.running > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(exportsService.running).toBe(0);
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([t.runtime.dataSource.query('SELECT 1 AS one'), new Promise((r) => (timer = setTimeout(() => r('timeout'), 5000)))]);
    clearTimeout(timer);
    expect(answered).toEqual([{ one: 1 }]);
    if (realServers.database) {
      const open: { n: number }[] = await t.runtime.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'usage-ledger' AND state LIKE 'idle in transaction%'`,
      );
      expect(open[0].n).toBe(0);
    }
  }

  it('answers 200 text/csv, chunked without Content-Length, attachment named by route and window, RFC 4180 with CRLF', async () => {
    const res = await get('/reports/test/rows?format=csv&n=4');
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="test-rows-20250301T000000Z--20250302T123000Z.csv"');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.body).toBe(
      [
        'n,quantity,raw_numeric,even,label,at,day,period.start,period.end',
        '1,0.100000,2,false,"name, 1\n""q""",2025-03-01T00:00:01.500Z,2025-03-02,p1,',
        '2,0.200000,4,true,"name, 2\n""q""",2025-03-01T00:00:03.000Z,2025-03-03,p2,',
        '3,0.300000,6,false,,2025-03-01T00:00:04.500Z,2025-03-04,p3,',
        '4,0.400000,8,true,"line\nbreak",2025-03-01T00:00:06.000Z,2025-03-05,p4,',
        '',
      ].join('\r\n'),
    );
    await expectReleased();
  });

  it('names the file by period when one was given; Accept: text/csv asks for CSV, format=json wins over it', async () => {
    const res = await get('/reports/test/rows?n=1&period=2025-03', { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="test-rows-2025-03.csv"');
    const json = await get('/reports/test/rows?n=1&format=json', { accept: 'text/csv' });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(json.body)).toEqual({ rows: [] });
  });

  it('refuses limit and cursor with CSV: 400 in the mount shape', async () => {
    const res = await get('/reports/test/rows?format=csv&limit=5&cursor=x');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      error: 'limit: not accepted with CSV: an export has no pages',
      fields: { limit: 'not accepted with CSV: an export has no pages', cursor: 'not accepted with CSV: an export has no pages' },
    });
  });

  it('has the header row for an empty result, and a BOM with bom=1', async () => {
    const empty = await get('/reports/test/rows?format=csv&n=0');
    expect(empty.status).toBe(200);
    expect(empty.complete).toBe(true);
    expect(empty.body).toBe(`${COLUMNS.join(',')}\r\n`);
    const bom = await get('/reports/test/rows?format=csv&n=1&bom=1');
    expect(bom.body.startsWith(`\uFEFF${COLUMNS.join(',')}\r\n1,`)).toBe(true);
    const noBom = await get('/reports/test/rows?format=csv&n=1&bom=0');
    expect(noBom.body.startsWith('n,')).toBe(true);
    await expectReleased();
  });

  it('streams every row across many cursor batches, in order', async () => {
    const res = await get('/reports/test/rows?format=csv&n=2501&batch=100');
    expect(res.complete).toBe(true);
    const lines = res.body.split('\r\n');
    // header + 2501 rows (labels hold a quoted LF, not a CRLF) + the empty string after the last CRLF
    expect(lines).toHaveLength(2503);
    expect(lines[2501].startsWith('2501,250.100000,5002,false,"name, 2501')).toBe(true);
    expect(mapped.count).toBe(2501);
    await expectReleased();
  });

  it('answers HEAD with the headers of the file and no body, and gives everything back', async () => {
    const res = await new Promise<IncomingMessage & { text: string }>((resolve) => {
      const req = httpRequest({ agent: false, method: 'HEAD', host: '127.0.0.1', port, path: '/reports/test/rows?format=csv&n=3000&batch=100' }, (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve(Object.assign(r, { text })));
      });
      req.end();
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="test-rows-/);
    expect(res.text).toBe('');
    await expectReleased();
    expect(mapped.count).toBeLessThan(3000);
  });

  it('a failure before the header (bad SQL, a bad column in the first batch, a bad setting) is an ordinary error answer', async () => {
    const sql = await get('/reports/test/rows?format=csv&bad_sql=1');
    expect(sql.status).toBe(500);
    expect(JSON.parse(sql.body)).toEqual({ error: 'Internal server error' });
    const column = await get('/reports/test/rows?format=csv&n=3&bad_column=1');
    expect(column.status).toBe(500);
    expect(column.headers['content-type']).toMatch(/^application\/json/);
    expect((await get('/reports/test/rows?format=csv&n=3&bad_setting=1')).status).toBe(500);
    await expectReleased();
  });

  it('a failure after the header aborts the connection: a failed transfer, never a short file', async () => {
    const res = await get('/reports/test/rows?format=csv&n=50&batch=5&fail_at=23');
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.body.startsWith(`${COLUMNS.join(',')}\r\n1,`)).toBe(true);
    expect(res.body).not.toContain('\r\n23,');
    await expectReleased();
    // The export after it works.
    const next = await get('/reports/test/rows?format=csv&n=3');
    expect(next.complete).toBe(true);
  });

  it('honours back-pressure: a client that stops reading stops the cursor; leaving releases everything', async () => {
    const total = 200000;
    const { res, req } = await new Promise<{ res: IncomingMessage; req: ReturnType<typeof httpRequest> }>((resolve) => {
      const req = httpRequest({ agent: false, host: '127.0.0.1', port, path: `/reports/test/rows?format=csv&n=${total}&batch=500&pad=200` }, (res) => resolve({ res, req }));
      req.end();
    });
    try {
      expect(res.statusCode).toBe(200);
      res.pause();
      // Socket and stream buffers fill, then the cursor stops: the count settles far before the end.
      let settled = -1;
      for (let i = 0; i < 60 && settled !== mapped.count; i++) {
        settled = mapped.count;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(settled).toBe(mapped.count);
      expect(settled).toBeLessThan(total / 2);
      expect(exportsService.running).toBe(1);
    } finally {
      req.destroy();
    }
    await expectReleased();
    expect(mapped.count).toBeLessThan(total / 2);
  });

  it(`runs at most REPORT_MAX_EXPORTS (${MAX}) at once: more is 429 with Retry-After: 5 in the mount's shape`, async () => {
    const held: { res: IncomingMessage; req: ReturnType<typeof httpRequest> }[] = [];
    const open = () =>
      new Promise<{ res: IncomingMessage; req: ReturnType<typeof httpRequest> }>((resolve) => {
        const req = httpRequest({ agent: false, host: '127.0.0.1', port, path: '/reports/test/rows?format=csv&n=200000&batch=500&pad=200' }, (res) => {
          res.pause();
          resolve({ res, req });
        });
        req.end();
      });
    try {
      held.push(await open());
      // On embedded PostgreSQL the second export waits for the one connection (reports.md 7.6): its slot is taken all the same.
      const second = open();
      for (let i = 0; i < 100 && exportsService.running < MAX; i++) await new Promise((r) => setTimeout(r, 20));
      expect(exportsService.running).toBe(MAX);
      const refused = await get('/reports/test/rows?format=csv&n=1');
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('5');
      expect(JSON.parse(refused.body)).toEqual({ error: expect.stringMatching(/^2 CSV export\(s\) are running/) });
      held[0].req.destroy();
      held.push(await second);
    } finally {
      for (const { req } of held) req.destroy();
    }
    await expectReleased();
    const again = await get('/reports/test/rows?format=csv&n=1');
    expect(again.status).toBe(200);
  });

  const real = realServers.database ? it : it.skip;
  if (!realServers.database) console.log('CSV export snapshot and pg_terminate_backend tests skipped: they need real PostgreSQL (set DATABASE_URL)');

  real('is one REPEATABLE READ snapshot while writes continue (PostgreSQL)', async () => {
    const ds: DataSource = t.runtime.dataSource;
    await ds.query('DROP TABLE IF EXISTS csv_export_probe');
    await ds.query('CREATE TABLE csv_export_probe (n int PRIMARY KEY)');
    try {
      await ds.query('INSERT INTO csv_export_probe SELECT generate_series(1, 3000)');
      const probe = app.get(CsvExportService);
      const file = await probe.stream({ route: 'probe', sql: 'SELECT n FROM csv_export_probe ORDER BY n', params: [], columns: ['n'], batchSize: 100 });
      // The first batch is read: the snapshot is taken. Change the table, then read the rest.
      await ds.query('INSERT INTO csv_export_probe SELECT generate_series(3001, 4000)');
      await ds.query('DELETE FROM csv_export_probe WHERE n <= 1000');
      let text = '';
      for await (const chunk of file.getStream()) text += chunk.toString();
      const lines = text.split('\r\n').filter(Boolean);
      expect(lines[0]).toBe('n');
      expect(lines).toHaveLength(3001);
      expect(lines[3000]).toBe('3000');
    } finally {
      await ds.query('DROP TABLE IF EXISTS csv_export_probe');
    }
    await expectReleased();
  });

  real('a terminated backend mid-stream is a broken transfer; the pool recovers (PostgreSQL)', async () => {
    const admin = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'csv-export-test' });
    await admin.connect();
    let terminated = 0;
    try {
      const answer = new Promise<RawAnswer>((resolve) => {
        const req = httpRequest({ agent: false, host: '127.0.0.1', port, path: '/reports/test/rows?format=csv&n=300000&batch=200&pad=100' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.pause();
          res.on('data', (chunk: string) => (body += chunk));
          res.on('error', () => undefined);
          res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body, complete: res.complete }));
          // Start reading once the backend has been terminated.
          setTimeout(async () => {
            const { rows } = await admin.query(
              `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'usage-ledger' AND query LIKE '%generate_series%') killed`,
            );
            terminated = rows[0].n;
            res.resume();
          }, 500);
        });
        req.on('error', () => undefined);
        req.end();
      });
      const res = await answer;
      expect(terminated).toBe(1);
      expect(res.status).toBe(200);
      expect(res.complete).toBe(false);
      expect(res.body.split('\r\n').length).toBeLessThan(300000);
    } finally {
      await admin.end();
    }
    await expectReleased();
  });
});
