import { newAuditId } from './report-audit.repository';

describe(newAuditId.name, () => {
  it('gives au_ and 24 hex digits, in the order they were made, also within one millisecond', () => {
    const ids = [newAuditId(1_800_000_000_000), newAuditId(1_800_000_000_000), newAuditId(1_800_000_000_000), newAuditId(1_800_000_000_001)];
    for (const id of ids) expect(id).toMatch(/^au_[0-9a-f]{24}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
  });

  it('stays ordered when the clock steps back', () => {
    const first = newAuditId(1_900_000_000_000);
    const second = newAuditId(1_899_999_999_000);
    expect(second > first).toBe(true);
  });
});
