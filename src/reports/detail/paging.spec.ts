import { DomainError } from '../../http/domain-error';
import { decodeCursor, encodeCursor, queryFingerprint } from './paging';

describe(queryFingerprint.name, () => {
  it('ignores limit and cursor, absent values and the order of list values', () => {
    const a = queryFingerprint('usage/entities', { period: '2025-03', project_id: ['p2', 'p1'], limit: 5, cursor: 'x', tz: undefined });
    expect(queryFingerprint('usage/entities', { project_id: ['p1', 'p2', 'p1'], period: '2025-03' })).toBe(a);
  });

  it('changes with any other parameter or the route', () => {
    const a = queryFingerprint('usage/entities', { period: '2025-03' });
    expect(queryFingerprint('usage/entities', { period: '2025-04' })).not.toBe(a);
    expect(queryFingerprint('usage/entities', { period: '2025-03', meter: ['instance.time'] })).not.toBe(a);
    expect(queryFingerprint('projects', { period: '2025-03' })).not.toBe(a);
  });
});

describe(decodeCursor.name, () => {
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return (error as DomainError).message;
    }
    throw new Error('no refusal');
  };

  it('gives back the keys of a cursor of the same query', () => {
    expect(decodeCursor(encodeCursor('q1', ['p1', 'x']), 'q1', 2)).toEqual(['p1', 'x']);
  });

  it('refuses a cursor of another query, a malformed one, one with the wrong keys', () => {
    expect(refusal(() => decodeCursor(encodeCursor('q1', ['p1']), 'q2', 1))).toMatch(/^cursor: was issued for other parameters/);
    expect(refusal(() => decodeCursor('%%%', 'q1', 1))).toBe('cursor: is not a cursor of this route');
    expect(refusal(() => decodeCursor(encodeCursor('q1', ['p1', 'p2']), 'q1', 1))).toBe('cursor: is not a cursor of this route');
    expect(refusal(() => decodeCursor(encodeCursor('q1', ['p\u00001']), 'q1', 1))).toBe('cursor: is not a cursor of this route');
    expect(refusal(() => decodeCursor(encodeCursor('q1', ['p1']), 'q1', 1, () => false))).toBe('cursor: is not a cursor of this route');
    expect(refusal(() => decodeCursor(Buffer.from('{"q":"q1","k":[1]}').toString('base64url'), 'q1', 1))).toBe('cursor: is not a cursor of this route');
    expect(refusal(() => decodeCursor(Buffer.from('null').toString('base64url'), 'q1', 1))).toBe('cursor: is not a cursor of this route');
  });
});
