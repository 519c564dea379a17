import { jsonNestsDeeperThan, parseJsonText } from './body-parsers';

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

describe(parseJsonText.name, () => {
  it('accepts 64 levels and refuses 65', () => {
    expect(parseJsonText('['.repeat(64) + ']'.repeat(64))).toBeInstanceOf(Array);
    expect(() => parseJsonText('['.repeat(65) + ']'.repeat(65))).toThrow('deeper than 64 levels');
  });
});
