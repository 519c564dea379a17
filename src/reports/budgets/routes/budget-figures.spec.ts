import { Exact } from '../../decimal';
import { forecast, stateOf } from './budgets.service';
import { suAmountRule, thresholdsRule } from './dto/budgets.dto';

const policy = (thresholds: number[], overdraft = '0') => ({ thresholds, overdraft });
const state = (granted: string, consumed: string, held: string, p = policy([80, 100])) =>
  stateOf(new Exact(granted), new Exact(consumed), new Exact(granted).minus(consumed).minus(held), p);

describe('stateOf (reports.md 6.3)', () => {
  it('takes the first that holds: overdrawn, exhausted, warning, ok', () => {
    expect(state('100', '79.999999', '0')).toBe('ok');
    expect(state('100', '80', '0')).toBe('warning');
    expect(state('100', '10', '75')).toBe('ok');
    expect(state('100', '100', '0')).toBe('exhausted');
    expect(state('100', '100', '0.000001')).toBe('overdrawn');
    expect(state('100', '100', '0.5', policy([80], '0.5'))).toBe('exhausted');
    expect(state('0', '0', '0')).toBe('exhausted');
    expect(state('100', '95', '0', policy([96]))).toBe('ok');
  });
});

describe('forecast (reports.md 6.5)', () => {
  const r = { as_of_exact: '2025-01-01T00:00:00.900000Z', period_end: '2026-01-01T00:00:00.000Z' };
  it('is as_of + available ÷ rate days, truncated to the second', () => {
    expect(forecast(r, new Exact('15'), new Exact('10'))).toBe('2025-01-02T12:00:00.000Z');
    expect(forecast(r, new Exact('1'), new Exact('3'))).toBe('2025-01-01T08:00:00.000Z');
  });
  it('is null for a rate or available ≤ 0, or after the period end', () => {
    expect(forecast(r, new Exact('15'), new Exact('0'))).toBeNull();
    expect(forecast(r, new Exact('0'), new Exact('1'))).toBeNull();
    expect(forecast(r, new Exact('366'), new Exact('1'))).toBeNull();
  });
});

describe('budget inputs', () => {
  it('SU amounts: plain decimals with at most 6 fractional digits', () => {
    expect(suAmountRule('1.000001', true)).toBeNull();
    expect(suAmountRule('0', false)).toBeNull();
    expect(suAmountRule('0.000000', true)).toBe('must be > 0');
    expect(suAmountRule('-2', false)).toBe('must be ≥ 0');
    expect(suAmountRule('1.0000001', true)).toBe('must have at most 6 fractional digits');
    expect(suAmountRule('1e3', true)).toBe('must be a plain decimal, without an exponent');
    expect(suAmountRule(undefined, true)).toBe('is required');
    expect(suAmountRule(true, true)).toBe('must be a decimal string or number');
  });
  it('thresholds: 1 to 10 distinct whole numbers from 1 to 1000', () => {
    expect(thresholdsRule([1, 1000])).toBeNull();
    expect(thresholdsRule([])).toBe('must hold 1 to 10 thresholds');
    expect(thresholdsRule([5, 5])).toBe('must be distinct');
    expect(thresholdsRule(['80'])).toBe('must be whole numbers from 1 to 1000');
  });
});
