import { drainRollups } from '../support/reports';
import { useTestApp } from '../support/test-app';

/**
 * The drain's day cells (reports.md §7.2, invariant I1) against a recomputation written here the plain way: every
 * (version, local day) pair joined and grouped, `count(DISTINCT entity)` for items. The drain lists a version only
 * on the days near its ends and counts the whole days between by a running sum, unless another version of its entity
 * overlaps it (`usageCellsSql`); this history is made to meet every edge of that: accounting zones whose midnight
 * moves (Santiago skips one and has a 25-hour day; Havana skips one and doubles its first hour; Apia skipped the
 * whole of 2011-12-30, a day with an empty span; St. John's fell back from 00:01 to 23:01 in 2009, so 02:31Z-03:30Z
 * of 2009-11-01 is in November 1's day with the local date of October 31; Casey fell back three hours from 02:00
 * on 2010-03-05 to 23:00 of the 4th), versions ending at
 * a day's first instant or a microsecond before, long and open versions across the changes, one entity's versions
 * overlapping (same key and another), a flavor changed back within one day, a rebuild (a new version of the same key)
 * inside a day, volumes of size 0, and a seeded random history with overlaps, all inserted as rows (the API would
 * refuse the overlaps; a history imported in SQL may have them).
 */
const ZONES = ['America/Santiago', 'America/Havana', 'Pacific/Apia', 'America/St_Johns', 'Antarctica/Casey'];

interface Row {
  entity: string;
  type: 'instance' | 'volume';
  project: string;
  start: string;
  end: string | null;
  flavor?: string;
  size?: number;
}

const SHAPED: Row[] = [
  // Long versions across both zones' 2025 changes (Santiago: April 5 is 25 hours, September 7 starts at 01:00;
  // Havana: March 9 starts at 01:00, November 2 has two first hours), one open.
  { entity: 'long-1', type: 'instance', project: 'p1', start: '2025-02-10T12:34:56.789012Z', end: '2025-05-01T03:00:00Z', flavor: 'm1' },
  { entity: 'long-2', type: 'instance', project: 'p1', start: '2025-08-20T00:00:00Z', end: null, flavor: 'm1' },
  { entity: 'long-3', type: 'volume', project: 'p1', start: '2025-03-01T00:00:00Z', end: '2025-11-20T05:00:00Z', size: 250 },
  { entity: 'zero', type: 'volume', project: 'p1', start: '2025-01-15T00:00:00Z', end: '2025-03-15T00:00:00Z', size: 0 },
  // Ends at a day's first instant (Santiago midnight in April: 04:00Z after the change; Havana: 05:00Z in winter) or a microsecond before.
  { entity: 'edge-1', type: 'instance', project: 'p1', start: '2025-04-01T03:00:00Z', end: '2025-04-06T04:00:00Z', flavor: 'm2' },
  { entity: 'edge-2', type: 'instance', project: 'p1', start: '2025-04-05T02:59:59.999999Z', end: '2025-04-08T03:59:59.999999Z', flavor: 'm2' },
  { entity: 'edge-3', type: 'instance', project: 'p1', start: '2025-11-01T04:00:00Z', end: '2025-11-03T05:00:00Z', flavor: 'm2' },
  { entity: 'edge-4', type: 'instance', project: 'p1', start: '2025-09-06T03:00:00Z', end: '2025-09-09T04:00:00Z', flavor: 'm2' },
  // One entity's versions overlapping: the same key, and another key inside them.
  { entity: 'over', type: 'instance', project: 'p1', start: '2025-01-10T08:00:00Z', end: '2025-03-01T08:00:00Z', flavor: 'm1' },
  { entity: 'over', type: 'instance', project: 'p1', start: '2025-02-01T20:00:00Z', end: '2025-04-01T20:00:00Z', flavor: 'm1' },
  { entity: 'over', type: 'instance', project: 'p1', start: '2025-02-15T00:00:00Z', end: '2025-02-20T00:00:00Z', flavor: 'm2' },
  // A rebuild: a new version of the same key in the middle of a day.
  { entity: 'rebuilt', type: 'instance', project: 'p2', start: '2025-01-01T12:00:00Z', end: '2025-01-20T06:00:00Z', flavor: 'm1' },
  { entity: 'rebuilt', type: 'instance', project: 'p2', start: '2025-01-20T06:00:00Z', end: '2025-02-10T00:00:00Z', flavor: 'm1' },
  // A flavor changed and back within one day.
  { entity: 'flip', type: 'instance', project: 'p2', start: '2025-01-01T00:00:00Z', end: '2025-01-05T10:00:00Z', flavor: 'm1' },
  { entity: 'flip', type: 'instance', project: 'p2', start: '2025-01-05T10:00:00Z', end: '2025-01-05T11:00:00Z', flavor: 'm2' },
  { entity: 'flip', type: 'instance', project: 'p2', start: '2025-01-05T11:00:00Z', end: '2025-02-01T00:00:00Z', flavor: 'm1' },
  // Across Apia's skipped 2011-12-30 (its 12-29 ended at 10:00Z, 12-31 began then), and one ending at that instant.
  { entity: 'apia-1', type: 'instance', project: 'p2', start: '2011-12-20T00:00:00Z', end: '2012-01-10T00:00:00Z', flavor: 'm1' },
  { entity: 'apia-2', type: 'volume', project: 'p2', start: '2011-12-25T07:00:00Z', end: '2011-12-30T10:00:00Z', size: 40 },
  // Ending and starting in St. John's repeated hour of 2009-11-01 (each in its own project: no other version marks that day).
  { entity: 'fold-1', type: 'instance', project: 'p4', start: '2009-10-25T00:00:00Z', end: '2009-11-01T03:00:00Z', flavor: 'm1' },
  { entity: 'fold-2', type: 'volume', project: 'p5', start: '2009-11-01T03:10:00Z', end: '2009-11-03T00:00:00Z', size: 10 },
  // Ending in Casey's repeated hours of 2010-03-04/05 (13:00Z-16:00Z: the 5th's first three hours, then 23:00-24:00 of the 4th again).
  { entity: 'casey-1', type: 'instance', project: 'p6', start: '2010-03-01T00:00:00Z', end: '2010-03-04T15:30:00Z', flavor: 'm1' },
  // Rows of a fleet report by key over 08:00Z-09:00Z of 2024-06-10 and 07-10 (inside that local day in every zone
  // here), where the versions with time in the window weigh nothing: on 06-10 volume key ssd has a whole-day volume of
  // size 0 beside a partial one in the same project (a row, of 0), and flavor mq only a partial version before the
  // window (no row); on 07-10 ssd has a whole-day volume of size 0 in a project without a partial version (a row).
  { entity: 'z-whole', type: 'volume', project: 'p7', start: '2024-06-01T00:00:00Z', end: '2024-06-20T00:00:00Z', size: 0 },
  { entity: 'z-part', type: 'volume', project: 'p7', start: '2024-06-10T05:00:00Z', end: '2024-06-10T06:00:00Z', size: 10 },
  { entity: 'q-part', type: 'instance', project: 'p8', start: '2024-06-10T05:00:00Z', end: '2024-06-10T06:00:00Z', flavor: 'mq' },
  { entity: 'z-whole-2', type: 'volume', project: 'p9', start: '2024-07-01T00:00:00Z', end: '2024-07-20T00:00:00Z', size: 0 },
  { entity: 'z-part-2', type: 'volume', project: 'p7', start: '2024-07-10T05:00:00Z', end: '2024-07-10T06:00:00Z', size: 10 },
];

/** A seeded history of project p3: 60 versions of 12 entities, spans from under a day to 200 days, some overlapping, some open. */
function randomRows(seed: number): Row[] {
  let x = seed;
  const next = () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
  const year = Date.parse('2025-01-01T00:00:00Z');
  const rows: Row[] = [];
  const open = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const entity = `r-${Math.floor(next() * 12)}`;
    const volume = entity.endsWith('7') || entity.endsWith('8');
    const start = year + Math.floor(next() * 330 * 86_400_000) + Math.floor(next() * 1000) / 1000;
    const length = next() < 0.3 ? Math.floor(next() * 86_400_000) : Math.floor(next() * 200 * 86_400_000);
    // One open version per entity (a unique index holds it).
    const stillOpen = next() < 0.1 && !open.has(entity);
    if (stillOpen) open.add(entity);
    const iso = (ms: number) => new Date(Math.floor(ms)).toISOString().replace('Z', `${String(Math.floor(next() * 1000)).padStart(3, '0')}Z`);
    rows.push({
      entity,
      type: volume ? 'volume' : 'instance',
      project: 'p3',
      start: iso(start),
      end: stillOpen ? null : iso(start + length),
      flavor: volume ? undefined : `m${1 + Math.floor(next() * 3)}`,
      size: volume ? Math.floor(next() * 4) * 100 : undefined,
    });
  }
  return rows;
}

/** A version `v`'s meter, key and weight, as the plain recomputations below write them. */
const METER = `CASE v.entity_type WHEN 'instance' THEN 'instance.time' ELSE 'volume.size' END`;
const KEY = `CASE v.entity_type WHEN 'instance' THEN coalesce(v.flavor, '') ELSE coalesce(v.volume_type, '') END`;
const WEIGHT = `CASE v.entity_type WHEN 'instance' THEN 1 ELSE coalesce(v.size, 0) END`;

for (const zone of ZONES) {
  describe(`rollup day cells in ${zone}: the drain equals the plain recomputation (reports.md §7.2, I1)`, () => {
    const t = useTestApp({ REPORT_TIME_ZONE: zone });

    it('for long, open, edge, overlapping and random versions, quantity and items', async () => {
      const db = t.runtime.dataSource;
      const rows = [...SHAPED, ...randomRows(zone.length * 7919)];
      await db.query(
        `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, flavor, volume_type, size)
         SELECT e, ty, p, s::timestamptz, en::timestamptz, s::timestamptz, CASE ty WHEN 'instance' THEN f END, CASE ty WHEN 'volume' THEN 'ssd' END, sz
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[]) AS u(e, ty, p, s, en, f, sz)`,
        [rows.map((r) => r.entity), rows.map((r) => r.type), rows.map((r) => r.project), rows.map((r) => r.start), rows.map((r) => r.end), rows.map((r) => r.flavor ?? null), rows.map((r) => r.size ?? null)],
      );
      await drainRollups(t);

      const stored = await db.query(
        `SELECT project_id, day::text AS day, meter, key, quantity::text AS q, items FROM report_usage_day_cell WHERE meter IN ('instance.time', 'volume.size') ORDER BY 1, 2, 3, 4`,
      );
      const plain = await db.query(`
        WITH kk AS (
          SELECT p.project_id, d::date AS day, report_day_start(d::date, c.time_zone) AS s, report_day_start(d::date + 1, c.time_zone) AS e
          FROM (SELECT DISTINCT project_id FROM almanach_entity_version) p
          CROSS JOIN report_clock c
          CROSS JOIN generate_series((SELECT min(start)::date - 2 FROM almanach_entity_version), c.booked_day - 1, interval '1 day') AS d
        )
        SELECT kk.project_id, kk.day::text AS day, ${METER} AS meter, ${KEY} AS key,
               sum(${WEIGHT}
                   * extract(epoch FROM least(coalesce(v."end", 'infinity'), kk.e) - greatest(v.start, kk.s)))::text AS q,
               count(DISTINCT v.entity_id)::int AS items
        FROM kk JOIN almanach_entity_version v
          ON v.project_id = kk.project_id AND least(coalesce(v."end", 'infinity'), kk.e) > greatest(v.start, kk.s)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`);
      // The history meets hundreds of days in each project, and the shaped cases all land in it.
      expect(plain.length).toBeGreaterThan(1000);
      expect(plain.filter((c: { items: number }) => c.items > 1).length).toBeGreaterThan(50);
      expect(stored).toEqual(plain);

      // Fleet reports of unaligned windows: a cut day with exact cells is answered from them and the versions ending
      // inside it (`cutDayPiecesSql`), one with a dirty key or range of the cloud site from raw history; both equal the
      // plain sum of each version's overlap with the window.
      const reader = await t.token('reader', { name: 'billing' });
      const byText = (a: (string | null)[], b: (string | null)[]) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1);
      // By project and key (the fleet's day cells), or by key alone (the site-day cells).
      const report = async (start: string, end: string, byProject = true) => {
        const res = await t.http
          .get(`/reports/usage?start=${start}&end=${end}&group_by=${byProject ? 'project_id,key' : 'key'}&source=instance,volume&limit=10000`)
          .set('X-Auth-Token', reader)
          .expect(200);
        expect(res.body.next_cursor).toBeNull();
        return res.body.rows
          .filter((r: Record<string, string>) => r.meter === 'instance.time' || r.meter === 'volume.size')
          .map((r: Record<string, string>) => [r.project_id, r.meter, r.key, r.quantity])
          .sort(byText);
      };
      const windowPlain = async (start: string, end: string, byProject = true) => {
        const rows: (string | null)[][] = (
          await db.query(
            `SELECT v.project_id, ${METER} AS meter, ${KEY} AS key,
                    round(sum(${WEIGHT}
                        * extract(epoch FROM least(coalesce(v."end", 'infinity'), $2::timestamptz) - greatest(v.start, $1::timestamptz))), 6)::text AS q
             FROM almanach_entity_version v WHERE least(coalesce(v."end", 'infinity'), $2::timestamptz) > greatest(v.start, $1::timestamptz)
             GROUP BY 1, 2, 3`,
            [start, end],
          )
        ).map((r: Record<string, string>) => [r.project_id, r.meter, r.key, r.q]);
        if (byProject) return rows.sort(byText);
        // Summed over projects in millionths (every quantity has six digits).
        const sums = new Map<string, bigint>();
        for (const [, meter, key, q] of rows as string[][]) sums.set(`${meter}\u0000${key}`, (sums.get(`${meter}\u0000${key}`) ?? 0n) + BigInt(q.replace('.', '')));
        return [...sums].map(([k, micro]) => [null, ...k.split('\u0000'), `${micro / 1_000_000n}.${String(micro % 1_000_000n).padStart(6, '0')}`]).sort(byText);
      };
      const windows: [string, string][] = [
        ['2025-04-05T10:30:00.123456Z', '2025-04-08T07:15:00Z'],
        ['2025-11-01T23:59:59Z', '2025-11-02T06:00:00.5Z'],
        ['2025-09-06T05:00:00Z', '2025-09-07T05:30:00Z'],
        ['2025-02-15T13:00:00Z', '2025-02-19T01:00:00Z'],
        ['2025-01-05T10:30:00Z', '2025-01-05T10:45:00Z'],
        ['2011-12-29T09:00:00Z', '2011-12-31T11:00:00Z'],
        ['2009-11-01T02:45:00Z', '2009-11-01T03:20:00Z'],
        ['2010-03-04T14:00:00Z', '2010-03-05T20:00:00Z'],
        // Entity `over`: a whole-day version of m1 and, starting later that day, an overlapping one that misses the window.
        ['2025-02-01T04:00:00Z', '2025-02-01T10:00:00Z'],
        ['2024-06-10T08:00:00Z', '2024-06-10T09:00:00Z'],
        ['2024-07-10T08:00:00Z', '2024-07-10T09:00:00Z'],
      ];
      for (let i = 0; i < 6; i++) {
        const from = Date.parse('2025-01-01T00:00:00Z') + ((i * 7_919_000_003 + zone.length * 104_729) % (330 * 86_400_000));
        windows.push([new Date(from).toISOString(), new Date(from + ((i * 13 + 5) % 40) * 3_600_000 + 1_234).toISOString()]);
      }
      let checked = 0;
      for (const [start, end] of windows) {
        for (const byProject of [true, false]) {
          const expected = await windowPlain(start, end, byProject);
          checked += expected.length;
          expect([start, end, byProject, await report(start, end, byProject)]).toEqual([start, end, byProject, expected]);
        }
      }
      expect(checked).toBeGreaterThan(60);
      expect(await report('2024-06-10T08:00:00Z', '2024-06-10T09:00:00Z', false)).toEqual([[null, 'volume.size', 'ssd', '0.000000']]);
      expect(await report('2024-07-10T08:00:00Z', '2024-07-10T09:00:00Z', false)).toEqual([[null, 'volume.size', 'ssd', '0.000000']]);

      // The cut days are read from their cells: a cell changed by hand (the check would repair it) by five whole days'
      // worth of one instance reads as five more instances over the hour of the window ...
      const HOUR: [string, string] = ['2025-02-15T13:00:00Z', '2025-02-15T14:00:00Z'];
      const [{ day, length }] = await db.query(
        `SELECT d::text AS day, extract(epoch FROM report_day_start(d + 1, $1) - report_day_start(d, $1))::int AS length
         FROM report_local_day($2::timestamptz, $1) AS d`,
        [zone, HOUR[0]],
      );
      const [changed] = await db.query(
        `UPDATE report_usage_day_cell SET quantity = quantity + 5 * $2::int WHERE project_id = 'p3' AND day = $1 AND meter = 'instance.time' AND key = 'm1' RETURNING 1`,
        [day, length],
      );
      expect(changed).toBeDefined();
      const hour = await windowPlain(...HOUR);
      const plus = hour.map((r: (string | null)[]) => (r[0] === 'p3' && r[2] === 'm1' ? [...r.slice(0, 3), (Number(r[3]) + 5 * 3600).toFixed(6)] : r));
      expect(plus).not.toEqual(hour);
      expect(await report(...HOUR)).toEqual(plus);
      // ... and so by key alone, from the site-day cell.
      const hourByKey = await windowPlain(...HOUR, false);
      expect(await report(...HOUR, false)).toEqual(hourByKey);
      await db.query(
        `UPDATE report_usage_site_day_cell SET quantity = quantity + 5 * $2::int WHERE site = (SELECT cloud_site FROM report_clock) AND day = $1 AND meter = 'instance.time' AND key = 'm1'`,
        [day, length],
      );
      const plusByKey = hourByKey.map((r: (string | null)[]) => (r[2] === 'm1' ? [...r.slice(0, 3), (Number(r[3]) + 5 * 3600).toFixed(6)] : r));
      expect(await report(...HOUR, false)).toEqual(plusByKey);
      // ... and a dirty key, or a dirty range, of the cloud site on that day (another project's) sends it back to raw
      // history (neither is drained here: the test drains by hand), while a dirty key of another site does not.
      await db.query(`INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p-other', 'amie-elsewhere', $1::date)`, [day]);
      expect(await report(...HOUR)).toEqual(plus);
      await db.query(`INSERT INTO report_dirty_key (project_id, site, day) SELECT 'p-other', cloud_site, $1::date FROM report_clock`, [day]);
      expect(await report(...HOUR)).toEqual(hour);
      expect(await report(...HOUR, false)).toEqual(hourByKey);
      await db.query(`DELETE FROM report_dirty_key`);
      expect(await report(...HOUR, false)).toEqual(plusByKey);
      await db.query(`INSERT INTO report_dirty_range (project_id, site, first_day, last_day) SELECT 'p-other', cloud_site, $1::date - 3, $1::date + 1 FROM report_clock`, [day]);
      expect(await report(...HOUR)).toEqual(hour);
      expect(await report(...HOUR, false)).toEqual(hourByKey);
    }, 240_000);
  });
}
