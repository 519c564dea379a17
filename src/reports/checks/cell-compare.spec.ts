import { compareDayCells } from './cell-compare';
import { DayCell } from '../rollups/rollup.repository';

const cell = (over: Partial<DayCell>): DayCell => ({
  project_id: 'p1',
  site: 'cloud',
  day: '2025-03-01',
  meter: 'instance.time',
  key: 'm1.small',
  subkey: '',
  quantity: '86400.000000',
  items: 1,
  ...over,
});

describe('compareDayCells', () => {
  it('finds nothing when both sides agree, whatever the scale of the decimals', () => {
    const result = compareDayCells([cell({ quantity: '1.5' }), cell({ key: 'b' })], [cell({ key: 'b' }), cell({ quantity: '1.500000' })]);
    expect(result).toEqual({ checked: 2, mismatches: [] });
  });

  it('reports a changed quantity, a changed item count, a missing cell and a phantom cell, in key order', () => {
    const stored = [cell({ key: 'a', quantity: '10' }), cell({ key: 'b', items: 2 }), cell({ key: 'd', quantity: '5', items: 1 })];
    const recomputed = [cell({ key: 'a', quantity: '10.000001' }), cell({ key: 'b', items: 1 }), cell({ key: 'c', quantity: '7', items: 3 })];
    const { checked, mismatches } = compareDayCells(stored, recomputed);
    expect(checked).toBe(4);
    expect(mismatches.map((m) => [m.key, m.stored, m.recomputed, m.stored_items, m.recomputed_items])).toEqual([
      ['a', '10', '10.000001', 1, 1],
      ['b', '86400.000000', '86400.000000', 2, 1],
      ['c', '0', '7', 0, 3],
      ['d', '5', '0', 1, 0],
    ]);
    expect(mismatches[0]).toMatchObject({ invariant: 'I1', project_id: 'p1', site: 'cloud', day: '2025-03-01', meter: 'instance.time', subkey: '' });
  });

  it('treats an absent cell as zero: a stored zero cell with no recomputed one is no mismatch', () => {
    expect(compareDayCells([cell({ quantity: '0', items: 0 })], []).mismatches).toEqual([]);
  });
});
