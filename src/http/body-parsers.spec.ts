import { jsonNestsDeeperThan, parseJson, parseJsonText, scanJson } from './body-parsers';

describe(jsonNestsDeeperThan.name, () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonNestsDeeperThan('[[1]]', 2)).toBe(false);
    expect(jsonNestsDeeperThan('[[[1]]]', 2)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":"[[[[{{{{"}', 1)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":"\\"[[[["}', 1)).toBe(false);
    expect(jsonNestsDeeperThan('[{}, {}, [], [], {}]', 2)).toBe(false);
  });

  it('ends a string at a quote after an even run of backslashes, not after an odd one', () => {
    // "x\\" is a string ending in one backslash: the brackets after it count.
    expect(jsonNestsDeeperThan(JSON.stringify(['x\\', [[1]]]), 2)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify(['x\\', [1]]), 2)).toBe(false);
    // "\\\"[[" holds an escaped quote: the brackets are inside the string.
    expect(jsonNestsDeeperThan(JSON.stringify(['\\"[[[[', 1]), 1)).toBe(false);
    // An unterminated string hides nothing it could nest.
    expect(jsonNestsDeeperThan('["abc', 1)).toBe(false);
  });

  it('scans a megabyte of nesting without recursion', () => {
    expect(jsonNestsDeeperThan('['.repeat(1 << 20), 64)).toBe(true);
  });
});

describe(scanJson.name, () => {
  it.each([
    ['[1e9999, 1E+9999, 2.5e-9999, 1e0001]', false],
    ['[1e00001]', true],
    ['[1e10000]', true],
    ['[1E+10000]', true],
    ['{"a": [0.5e-12345]}', true],
    [`[${'9'.repeat(999)}]`, false],
    [`[${'9'.repeat(1000)}]`, true],
    [`[1.${'0'.repeat(998)}1]`, false],
    [`[${'1'.repeat(500)}.${'1'.repeat(500)}]`, false],
    ['[true, false, null, "e12345", "1e99999"]', false],
    [`["${'7'.repeat(2000)}", {"1e12345": 1}]`, false],
    [JSON.stringify(['a\\', 1]), false],
    [JSON.stringify(['a\\', 1e300]).replace('1e+300', '1e12345'), true],
  ])('finds a number beyond numeric in %s: %p (strings do not count)', (text, wide) => {
    expect(scanJson(text, 64)).toEqual({ tooDeep: false, wideNumber: wide, suspectKey: false });
    expect(parseJson(text).numericSafe).toBe(!wide);
  });
});

describe('prototype poisoning', () => {
  it.each([
    '{"__proto__": {"polluted": 1}}',
    '{"a": [{"__proto__": null}]}',
    '{"constructor": {"prototype": {"polluted": 1}}}',
    '{"\\u005f_proto__": {"polluted": 1}}',
    '{"constructo\\u0072": {"prototype": {}}}',
    '\uFEFF{"__proto__": {}}',
  ])('refuses %s', (text) => {
    expect(() => parseJsonText(text)).toThrow('not valid JSON');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a": "__proto__", "b": "constructor"}', { a: '__proto__', b: 'constructor' }],
    ['{"constructor": 1}', { constructor: 1 }],
    ['{"__proto_": 1, "constructors": 2}', { __proto_: 1, constructors: 2 }],
    ['\uFEFF{"a": 1}', { a: 1 }],
    ['{"a": "caf\\u00e9"}', { a: 'café' }],
  ])('reads %s', (text, value) => {
    expect(parseJsonText(text)).toEqual(value);
  });

  it('flags the keys secure-json-parse looks for, as written', () => {
    expect(scanJson('{"__proto__": 1}', 64).suspectKey).toBe(true);
    expect(scanJson('[{"x": "constructor"}]', 64).suspectKey).toBe(true);
    expect(scanJson('{"a": "__proto__x", "constructo": 1}', 64).suspectKey).toBe(false);
  });
});

describe(parseJsonText.name, () => {
  it('accepts 64 levels and refuses 65', () => {
    expect(parseJsonText('['.repeat(64) + ']'.repeat(64))).toBeInstanceOf(Array);
    expect(() => parseJsonText('['.repeat(65) + ']'.repeat(65))).toThrow('deeper than 64 levels');
  });
});
