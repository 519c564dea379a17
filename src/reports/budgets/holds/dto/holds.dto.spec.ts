import { JsonNumber } from '../../../rating/price-lists/exact-json';
import { instantOf, suAmount, suAmountRule } from './holds.dto';

describe('hold inputs', () => {
  it.each([
    ['10', false, null],
    [new JsonNumber('10.000'), false, null],
    ['0', false, 'must be > 0'],
    ['0', true, null],
    ['-0', true, null],
    ['-0.000001', true, 'must be ≥ 0'],
    ['1.0000001', false, 'must have at most 6 fractional digits'],
    [new JsonNumber('1E2'), false, 'must be a plain decimal, without an exponent'],
    ['.5', false, 'must be a plain decimal such as "10.5"'],
    ['999999999999999999999999.999999', false, null],
    ['1000000000000000000000000', false, 'must be less than 10^24'],
    [undefined, false, 'is required'],
    [true, false, 'must be a decimal string or number'],
  ])('suAmountRule(%p, zero %p) is %p', (value, zero, rule) => {
    expect(suAmountRule(value, zero)).toBe(rule);
  });

  it('writes an amount with 6 places, exactly', () => {
    expect(suAmount(new JsonNumber('0.1'))).toBe('0.100000');
    expect(suAmount('123456789012345678.123456')).toBe('123456789012345678.123456');
  });

  it('reads instants with Z or an offset, and refuses calendar fields that do not exist', () => {
    expect(instantOf('2028-02-29T23:59:59.999999+01:00')?.toISOString()).toBe('2028-02-29T22:59:59.999Z');
    expect(instantOf('2027-02-29T00:00:00Z')).toBeNull();
    expect(instantOf('2027-04-31T00:00:00Z')).toBeNull();
    expect(instantOf('2027-01-01T24:00:00Z')).toBeNull();
    expect(instantOf('2027-13-01T00:00:00Z')).toBeNull();
  });
});
