import fc from 'fast-check';
import { USAGE_CSV_COLUMNS } from '../../src/reports/usage/usage-report.service';
import { quantityHours, quantityHoursSql, UNITS, unitSql } from '../../src/reports/usage/units';
import { almanach, drainRollups } from '../support/reports';
import { useTestApp } from '../support/test-app';

/** A quantity with up to six fractional digits from a count of millionths, as numeric's text writes it. */
function micros(n: bigint): string {
  const sign = n < 0n ? '-' : '';
  const abs = n < 0n ? -n : n;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

/**
 * The report's lines are written by the database (UsageReportRepository's
 * lineFields): `unit` and `quantity_hours` there must be what `UNITS` and
 * `quantityHours` (decimal.js, kept for totals and entity lines) answer, or a
 * line would disagree with its own total.
 */
describe('report lines written in SQL (reports.md §1.4, §3.1)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });

  it('quantity_hours and unit in SQL equal quantityHours and UNITS, ties and negatives included', async () => {
    const meters = [...Object.keys(UNITS), 'not.a.meter'];
    const millionths = fc.oneof(
      fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }),
      // q ÷ 3600 ends in exactly half a millionth: the half-even ties.
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).map((k) => 3600n * k + 1800n),
      fc.bigInt({ min: -5000n, max: 5000n }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...meters), millionths), { minLength: 1, maxLength: 200 }), async (cases) => {
        const quantities = cases.map(([, n]) => micros(n));
        const rows = (await t.runtime.dataSource.query(
          `SELECT ${unitSql('meter')} AS unit, ${quantityHoursSql('meter', 'quantity')} AS hours
           FROM unnest($1::text[], $2::numeric[]) WITH ORDINALITY AS u(meter, quantity, i) ORDER BY i`,
          [cases.map(([meter]) => meter), quantities],
        )) as { unit: string | null; hours: string | null }[];
        expect(rows).toEqual(cases.map(([meter], i) => ({ unit: UNITS[meter] ?? null, hours: quantityHours(meter, quantities[i]) })));
      }),
      { numRuns: 40 },
    );
  });

  it('answers each line with its fields in the order of the CSV columns, as JSON', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00.123456Z', 'm1.a');
    await drainRollups(t);
    const reader = await t.token('reader');
    const json = await t.http.get('/reports/usage?period=2025-03&granularity=day').set('X-Auth-Token', reader).expect(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.body.rows.length).toBeGreaterThan(0);
    const order = USAGE_CSV_COLUMNS.filter((c) => c !== 'currency');
    for (const row of json.body.rows) expect(Object.keys(row)).toEqual(order);
    expect(Object.keys(json.body)).toEqual(['window', 'as_of', 'complete', 'pending_cells', 'lag_seconds', 'granularity', 'group_by', 'currency', 'rows', 'totals', 'next_cursor', 'warnings']);
    // The first day starts at the first instant of the local day; instants are written to the millisecond.
    expect(json.body.rows[0]).toMatchObject({ period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-03-02T00:00:00.000Z', unit: 's' });
    const csv = await t.http.get('/reports/usage?period=2025-03&granularity=day&format=csv').set('X-Auth-Token', reader).expect(200);
    expect(csv.text.split('\r\n')[0]).toBe(USAGE_CSV_COLUMNS.join(','));
  });
});
