import { quantityHours, unitOf } from './meter-units';

describe(quantityHours.name, () => {
  it('divides the exact quantity by 3600 and rounds half-even to six digits', () => {
    expect(quantityHours('s', '820800.500000')).toBe('228.000139');
    expect(quantityHours('s', '2674800.000000')).toBe('743.000000');
    // 0.0018 s = 0.0000005 h: a tie, to the even digit (0); 0.0054 s = 0.0000015 h → 0.000002.
    expect(quantityHours('s', '0.001800')).toBe('0.000000');
    expect(quantityHours('s', '0.005400')).toBe('0.000002');
    expect(quantityHours('vcpu·s', '-0.005400')).toBe('-0.000002');
    expect(quantityHours('GB·s', '123456789012345678901234.000000')).toBe('34293552503429355250.342778');
  });

  it('is null for a unit that is not per second', () => {
    expect(quantityHours('charge', '10.5')).toBeNull();
  });
});

describe(unitOf.name, () => {
  it('knows every meter of §2.1 and refuses others', () => {
    expect(['instance.time', 'instance.vcpu', 'instance.ram', 'instance.disk', 'volume.size', 'amie.charge', 'amie.node_time', 'amie.core_time'].map(unitOf)).toEqual([
      's',
      'vcpu·s',
      'MB·s',
      'GB·s',
      'GB·s',
      'charge',
      'node·s',
      'core·s',
    ]);
    expect(() => unitOf('instance.gpu')).toThrow(/no unit/);
  });
});
