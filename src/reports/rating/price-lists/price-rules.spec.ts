import { unitPriceRule } from './dto/price-list.dto';
import { decimalText, JsonNumber, parseExactJson } from './exact-json';
import { priceUnitRule, subkeyRule } from './price-rules';
import { pastWindow } from './price-validity';

describe(parseExactJson.name, () => {
  it('keeps every JSON number as its text and the rest as JSON.parse gives it', () => {
    const value = parseExactJson(' {"a": 2.40, "b": [1E2, -0.1000000000, "2.40"], "c": {"d": null, "e": true, "f": false}, "g": "x\\"y\\u00e9"} ');
    expect(value).toEqual({
      a: new JsonNumber('2.40'),
      b: [new JsonNumber('1E2'), new JsonNumber('-0.1000000000'), '2.40'],
      c: { d: null, e: true, f: false },
      g: 'x"yé',
    });
    expect(decimalText((value as { a: JsonNumber }).a)).toBe('2.40');
    expect(parseExactJson('[]')).toEqual([]);
    expect(parseExactJson('{}')).toEqual({});
  });

  it('keeps a "__proto__" key an ordinary field', () => {
    const value = parseExactJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it.each(['', '{', '{"a" 1}', '[1,]', '{"a": 1} x', 'tru', '{"a": 1,}'])('throws on %j', (text) => {
    expect(() => parseExactJson(text)).toThrow(SyntaxError);
  });
});

describe(unitPriceRule.name, () => {
  it.each<[unknown, string | null]>([
    ['0.25', null],
    ['0', null],
    ['12345.1234567890', null],
    [new JsonNumber('2.40'), null],
    ['0.12345678901', 'must have at most 10 fractional digits'],
    [new JsonNumber('1e2'), 'must be a plain decimal, without an exponent'],
    ['1E-3', 'must be a plain decimal, without an exponent'],
    ['-1', 'must be ≥ 0'],
    ['+1', 'must be a plain decimal such as "0.25"'],
    ['.5', 'must be a plain decimal such as "0.25"'],
    ['1.', 'must be a plain decimal such as "0.25"'],
    ['1,5', 'must be a plain decimal such as "0.25"'],
    [1.5, 'must be a decimal string or number'],
    [undefined, 'is required'],
    [null, 'is required'],
    ['9'.repeat(201), 'must have at most 200 digits'],
  ])('%p → %p', (value, rule) => {
    expect(unitPriceRule(value)).toBe(rule);
  });
});

describe('meter rules', () => {
  it('price_unit is hour for meters in seconds, unit for amie.charge', () => {
    expect(priceUnitRule('instance.time', 'hour')).toBeNull();
    expect(priceUnitRule('amie.core_time', 'hour')).toBeNull();
    expect(priceUnitRule('amie.charge', 'unit')).toBeNull();
    expect(priceUnitRule('amie.charge', 'hour')).toBe('must be unit for amie.charge (unit charge)');
    expect(priceUnitRule('volume.size', 'unit')).toBe('must be hour for volume.size (unit GB·s)');
  });

  it('subkey is a record type or * for AMIE meters, "" otherwise', () => {
    expect(subkeyRule('amie.charge', 'adjustment:refund')).toBeNull();
    expect(subkeyRule('amie.node_time', '*')).toBeNull();
    expect(subkeyRule('amie.charge', '')).toMatch(/^must be a record type/);
    expect(subkeyRule('instance.time', '')).toBeNull();
    expect(subkeyRule('instance.time', '*')).toBe('must be "" for instance.time');
  });
});

describe(pastWindow.name, () => {
  const today = '2026-11-29T23:00:00.000000Z';
  it('spans the earliest start to the latest end before today, cut at today', () => {
    expect(pastWindow([{ from: '2025-02-28T23:00:00.000000Z', to: '2025-03-31T22:00:00.000000Z' }], today)).toEqual({
      start: '2025-02-28T23:00:00.000000Z',
      end: '2025-03-31T22:00:00.000000Z',
    });
    expect(
      pastWindow(
        [
          { from: '2025-06-01T22:00:00.000000Z', to: null },
          { from: '2025-02-28T23:00:00.000000Z', to: '2025-03-31T22:00:00.000000Z' },
          { from: '2027-01-01T23:00:00.000000Z', to: null },
        ],
        today,
      ),
    ).toEqual({ start: '2025-02-28T23:00:00.000000Z', end: today });
  });

  it('is null when nothing begins before today', () => {
    expect(pastWindow([], today)).toBeNull();
    expect(pastWindow([{ from: today, to: null }], today)).toBeNull();
    expect(pastWindow([{ from: '2027-01-01T23:00:00.000000Z', to: null }], today)).toBeNull();
  });
});
