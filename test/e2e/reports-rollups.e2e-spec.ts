import { almanach, drainRollups } from '../support/reports';
import { useTestApp } from '../support/test-app';

describe('reports rollups: dirty keys and cells (reports.md §7.1–7.2)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  const cells = async () =>
    t.runtime.dataSource.query(
      `SELECT project_id, site, day::text AS day, meter, key, subkey, quantity::text AS quantity, items FROM report_usage_day_cell ORDER BY day, meter, key`,
    );

  it('marks the days of a version dirty in the write transaction and turns them into exact day cells', async () => {
    const service = await t.token('service');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    const dirty = await t.runtime.dataSource.query(`SELECT count(*)::int AS n, min(day)::text AS first FROM report_dirty_key WHERE project_id = 'p1'`);
    expect(dirty[0].first).toBe('2025-03-01');
    expect(dirty[0].n).toBeGreaterThan(600);
    await a.resizeInstance('i1', '2025-03-10T12:00:00.500Z', 'b');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
    await drainRollups(t);
    expect((await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_dirty_key`))[0].n).toBe(0);
    const rows: { day: string; key: string; quantity: string }[] = await cells();
    const march10 = rows.filter((r) => r.day === '2025-03-10');
    expect(march10).toEqual([
      expect.objectContaining({ key: 'a', quantity: '43200.500000', items: 1 }),
      expect.objectContaining({ key: 'b', quantity: '43199.500000', items: 1 }),
    ]);
    expect(rows.filter((r) => r.day >= '2025-03-20')).toEqual([]);
    const month = await t.runtime.dataSource.query(
      `SELECT key, quantity::text AS quantity, cells FROM report_usage_month_cell WHERE project_id = 'p1' ORDER BY key`,
    );
    expect(month).toEqual([
      { key: 'a', quantity: '820800.500000', cells: 10 },
      { key: 'b', quantity: '820799.500000', cells: 10 },
    ]);
    const site = await t.runtime.dataSource.query(`SELECT sum(quantity)::text AS q FROM report_usage_site_day_cell WHERE site = 'cloud'`);
    expect(site[0].q).toBe('1641600.000000');
  });
});
