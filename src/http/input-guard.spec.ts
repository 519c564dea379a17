import { findNul, nulField } from './input-guard';

describe('findNul', () => {
  it('names the first string holding a NUL, at any depth', () => {
    expect(findNul({ a: 'x', b: [{ c: 'ok' }, { c: 'n\u0000' }] }, '')).toBe('b[1].c');
    expect(findNul(['a', 'b\u0000'], 'ids')).toBe('ids[1]');
    expect(findNul('\u0000', '')).toBe('');
  });

  it('names the object holding a key with a NUL', () => {
    expect(findNul({ outer: { 'k\u0000': 1 } }, '')).toBe('outer');
  });

  it('answers null for clean values and non-strings', () => {
    expect(findNul({ a: 1, b: null, c: [true, 'x'], d: {} }, '')).toBeNull();
    expect(findNul(undefined, '')).toBeNull();
  });

  it('walks 100,000 levels without recursion', () => {
    let value: unknown = 'leaf\u0000';
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(findNul(value, 'x')).toMatch(/^x(\[0\]){100000}$/);
  });
});

describe('nulField', () => {
  const request = (over: Record<string, unknown>) =>
    ({ params: {}, query: {}, headers: {}, body: undefined, method: 'GET', url: '/admin/tokens', ...over }) as Parameters<typeof nulField>[0];

  it('checks the credential headers that reach SQL', () => {
    expect(nulField(request({ headers: { 'xa-site': 'a\u0000' } }))).toBe('XA-Site');
    expect(nulField(request({ headers: { 'x-auth-token': 't\u0000' } }))).toBe('X-Auth-Token');
    expect(nulField(request({ headers: { 'user-agent': 'a\u0000' } }))).toBeNull();
  });

  it('skips the body of POST /amie but not its query', () => {
    expect(nulField(request({ method: 'POST', url: '/amie/usage', body: { Records: [{ Username: 'j\u0000' }] } }))).toBeNull();
    expect(nulField(request({ method: 'POST', url: '/amie/usage?x=\u0000', query: { x: '\u0000' } }))).toBe('x');
    expect(nulField(request({ method: 'POST', url: '/admin/tokens', body: { name: 'j\u0000' } }))).toBe('name');
  });
});
