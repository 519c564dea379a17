import { cellDeltas } from './rollup-drainer.service';
import { DayCell } from './rollup.repository';

/** A day cell of p1/cloud/2025-03-01 with this meter, key and quantity text. */
function cell(meter: string, key: string, quantity: string): DayCell {
  return { project_id: 'p1', site: 'cloud', day: '2025-03-01', meter, key, subkey: '', quantity, items: 1 };
}

/** The deltas as `meter/key quantity cells rescale` lines, in key order. */
function lines(old: DayCell[], fresh: DayCell[]): string[] {
  return cellDeltas(old, fresh)
    .map((d) => `${d.meter}/${d.key} ${d.quantity} ${d.cells} ${d.rescale}`)
    .sort();
}

describe('cellDeltas (the site-day sums follow the day cells by difference, reports.md §7.2, §1.4)', () => {
  it('a new cell is its own delta, a cell gone is its negation, at the scale PostgreSQL gave it', () => {
    expect(lines([], [cell('instance.time', 'm1', '3600.000000'), cell('amie.charge', 'r1', '-2.50')])).toEqual([
      'amie.charge/r1 -2.50 1 false',
      'instance.time/m1 3600.000000 1 false',
    ]);
    expect(lines([cell('instance.time', 'm1', '3600.000000'), cell('amie.charge', 'r1', '-2.50'), cell('amie.charge', 'r2', '7')], [])).toEqual([
      // A charge gone with fractional digits may leave its sum a scale no cell has: rescale.
      'amie.charge/r1 2.50 -1 true',
      'amie.charge/r2 -7 -1 false',
      'instance.time/m1 -3600.000000 -1 false',
    ]);
  });

  it('an unchanged cell gives nothing; a changed one gives the exact difference at the larger scale', () => {
    const old = [cell('instance.time', 'm1', '3600.000000'), cell('volume.size', 'ssd', '10.500000'), cell('amie.charge', 'r1', '1.25')];
    const fresh = [cell('instance.time', 'm1', '3600.000000'), cell('volume.size', 'ssd', '9.000001'), cell('amie.charge', 'r1', '1.30')];
    expect(lines(old, fresh)).toEqual(['amie.charge/r1 0.05 0 false', 'volume.size/ssd -1.499999 0 false']);
  });

  it("a charge's scale: grown gives a zero of the new scale, fallen is marked rescale; a time meter's text alone never counts", () => {
    expect(lines([cell('amie.charge', 'r1', '13.5')], [cell('amie.charge', 'r1', '13.500')])).toEqual(['amie.charge/r1 0.000 0 false']);
    expect(lines([cell('amie.charge', 'r1', '13.500')], [cell('amie.charge', 'r1', '13.5')])).toEqual(['amie.charge/r1 0.000 0 true']);
    expect(lines([cell('amie.charge', 'r1', '13.500')], [cell('amie.charge', 'r1', '14')])).toEqual(['amie.charge/r1 0.500 0 true']);
    expect(lines([cell('instance.time', 'm1', '60.0')], [cell('instance.time', 'm1', '60.000000')])).toEqual([]);
  });

  it('cells are matched on the whole key: another project, site, day or subkey is another cell', () => {
    const a = cell('amie.charge', 'r1', '1.00');
    const others = [{ ...a, project_id: 'p2' }, { ...a, site: 'amie-1' }, { ...a, day: '2025-03-02' }, { ...a, subkey: 'compute' }];
    const deltas = cellDeltas([a], others);
    expect(deltas.filter((d) => d.cells === 1)).toHaveLength(4);
    expect(deltas.filter((d) => d.cells === -1).map((d) => [d.project_id, d.site, d.day, d.subkey, d.quantity])).toEqual([['p1', 'cloud', '2025-03-01', '', '-1.00']]);
  });
});
