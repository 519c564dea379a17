import { CheckCursor, nextPairs } from './consistency-check.handler';

describe('nextPairs: the chunks of a check', () => {
  it('walks a grid project by project, day by day, and ends with a null cursor', () => {
    let cursor: Exclude<CheckCursor, { mode: 'sums' }> | null = { mode: 'grid', projects: ['a', 'b'], first: '2025-02-27', days: 3, project: 0, day: 0, site: 'cloud' };
    const chunks: [string, string][][] = [];
    while (cursor) {
      const next = nextPairs(cursor, 4);
      chunks.push(next.pairs);
      cursor = next.cursor as typeof cursor;
    }
    expect(chunks).toEqual([
      [['a', '2025-02-27'], ['a', '2025-02-28'], ['a', '2025-03-01'], ['b', '2025-02-27']],
      [['b', '2025-02-28'], ['b', '2025-03-01']],
    ]);
  });

  it('ends exactly at a chunk boundary', () => {
    const first = nextPairs({ mode: 'grid', projects: ['a'], first: '2025-01-01', days: 2, project: 0, day: 0, site: 'cloud' }, 2);
    expect(first).toEqual({ pairs: [['a', '2025-01-01'], ['a', '2025-01-02']], cursor: null });
  });

  it('walks a sample list from where it stopped', () => {
    const pairs: [string, string][] = [['a', '2025-01-01'], ['b', '2025-01-05'], ['c', '2025-01-03']];
    const first = nextPairs({ mode: 'pairs', pairs, next: 0, site: 'cloud' }, 2);
    expect(first.pairs).toEqual(pairs.slice(0, 2));
    expect(first.cursor).toMatchObject({ next: 2 });
    expect(nextPairs(first.cursor as Exclude<CheckCursor, { mode: 'sums' }>, 2)).toEqual({ pairs: [pairs[2]], cursor: null });
  });
});
