import { RollupDrainer } from '../../src/reports/rollups/rollup-drainer.service';
import { useTestApp } from '../support/test-app';

/**
 * ROLLUP_VACUUM_AFTER_KEYS (docs/reports.md, "Freshness"): a worker's drain
 * loop vacuums report_dirty_key at the end of the pass in which its drained
 * keys reach the setting, so the dead rows of drained keys do not stay for
 * every later claim to read where autovacuum is off (here it is off for the
 * table, as on the CI machine's server).
 */
describe('the drain loop vacuums report_dirty_key after ROLLUP_VACUUM_AFTER_KEYS drained keys', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud', ROLLUP_VACUUM_AFTER_KEYS: '1000' });

  it('leaves the dead rows of fewer keys, then vacuums and truncates the emptied table', async () => {
    const db = t.runtime.dataSource;
    await db.query(`ALTER TABLE report_dirty_key SET (autovacuum_enabled = false)`);
    try {
      const drainer = t.app.get(RollupDrainer);
      const pages = async () => Number((await db.query(`SELECT pg_relation_size('report_dirty_key') / current_setting('block_size')::int AS n`))[0].n);
      // Keys of projects without history: each drains to no cell, and leaves its dead row.
      const dirty = (from: number) =>
        db.query(`INSERT INTO report_dirty_key (project_id, site, day) SELECT 'p' || g, 'cloud', date '2025-01-01' FROM generate_series($1::int, $1::int + 599) g`, [from]);
      await dirty(1);
      expect(await drainer.tick()).toBe(600);
      const before = await pages();
      expect(before).toBeGreaterThan(0);
      await dirty(601);
      // 1,200 keys drained since the start: the pass ends with the VACUUM.
      expect(await drainer.tick()).toBe(600);
      expect({ pages: await pages(), keys: (await db.query(`SELECT count(*)::int AS n FROM report_dirty_key`))[0].n }).toEqual({ pages: 0, keys: 0 });
      // The count starts again: 600 more keys leave their rows.
      await dirty(1201);
      expect(await drainer.tick()).toBe(600);
      expect(await pages()).toBeGreaterThan(0);
    } finally {
      await db.query(`ALTER TABLE report_dirty_key RESET (autovacuum_enabled)`);
    }
  });
});
