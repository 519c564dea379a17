import { newJobId } from './job-id';

describe('newJobId', () => {
  it('is job_ and 26 Crockford base-32 characters', () => {
    expect(newJobId()).toMatch(/^job_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('sorts in the order made, within one millisecond and when the clock steps back', () => {
    const at = Date.UTC(2026, 10, 30, 12);
    const ids = [newJobId(at), newJobId(at), newJobId(at), newJobId(at - 5), newJobId(at + 1)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // Same millisecond: same time part, random part one greater.
    expect(ids[1].slice(0, 14)).toBe(ids[0].slice(0, 14));
  });

  it('carries an increment across digits', () => {
    const at = Date.UTC(2026, 10, 30, 13);
    let prev = newJobId(at);
    for (let i = 0; i < 2000; i++) {
      const next = newJobId(at);
      expect(next > prev).toBe(true);
      prev = next;
    }
  });
});
