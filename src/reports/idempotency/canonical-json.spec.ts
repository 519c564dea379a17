import { canonicalJson } from './canonical-json';

describe(canonicalJson.name, () => {
  it('ignores key order at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  it('keeps array order and value types apart', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });

  it('writes no body as null', () => {
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ a: 'é"' })).toBe('{"a":"é\\""}');
  });
});
