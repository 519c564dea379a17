import { expandStored, StoredRecord, storedForm } from './usage-stored-record';
import { NormalizedRecord, UsageType, validateMessage } from './usage-validation';

const NOW = Date.parse('2026-06-01T00:00:00Z');

/** The accepted records of a message of `type` (every record must pass). */
function accepted(type: UsageType, records: Record<string, unknown>[]): NormalizedRecord[] {
  const { outcomes } = validateMessage({ UsageType: type, Records: records }, NOW);
  return outcomes.map((o) => {
    if (!o.ok) throw new Error(o.error);
    return o.record;
  });
}

const compute = (overrides: Record<string, unknown>) => ({
  Username: 'jdoe',
  LocalProjectID: 'TG-1',
  LocalRecordID: 'job-1',
  Resource: 'cluster-a',
  SubmitTime: '2026-05-01T10:00:00.000Z',
  StartTime: '2026-05-01T10:05:00.000Z',
  EndTime: '2026-05-01T11:05:00.000Z',
  Charge: '10.5',
  Attributes: { NodeCount: 1 },
  ...overrides,
});

describe('stored form of an accepted record', () => {
  it('leaves out every field the record as received already holds', () => {
    const [record] = accepted('Compute', [compute({})]);
    expect(storedForm('Compute', record, false)).toEqual({ n: 0, r: 'cluster-a', i: 'job-1' });
    expect(storedForm('Compute', record, true)).toEqual({ n: 0, r: 'cluster-a', i: 'job-1', d: record.d });
  });

  it('keeps each field whose normal form differs from the record, and only those', () => {
    const [record] = accepted('Compute', [
      compute({ LocalProjectID: 42, Username: 7, Charge: '0010.50', StartTime: '2026-05-01 12:05:00+02:00', EndTime: '2026-05-01T11:05:00Z' }),
    ]);
    expect(storedForm('Compute', record, false)).toEqual({
      n: 0,
      r: 'cluster-a',
      i: 'job-1',
      p: '42',
      u: '7',
      c: '10.5',
      s: '2026-05-01T10:05:00.000Z',
      e: '2026-05-01T11:05:00.000Z',
    });
  });

  it('never takes a field from a source the type does not have (an unknown field of that name is ignored)', () => {
    const [c] = accepted('Compute', [compute({ AdjustmentType: 'debit' })]);
    expect(storedForm('Compute', c, false)).toEqual({ n: 0, r: 'cluster-a', i: 'job-1' });
    expect(expandStored('Compute', storedForm('Compute', c, false), c.d).a).toBeNull();
    const adjustment = { AdjustmentType: 'CREDIT', Charge: '5', StartTime: '2026-05-01T10:00:00.000Z', LocalProjectID: 'P', LocalRecordID: 'a-1', Resource: 'r', Username: 'u', EndTime: 'x' };
    const [a] = accepted('Adjustment', [adjustment]);
    expect(storedForm('Adjustment', a, false)).toEqual({ n: 0, r: 'r', i: 'a-1', a: 'credit' });
    expect(expandStored('Adjustment', storedForm('Adjustment', a, false), a.d).e).toBeNull();
  });

  it.each<[UsageType, Record<string, unknown>[]]>([
    ['Compute', [compute({}), compute({ LocalRecordID: 8, Charge: 3, StartTime: '2026-05-01T10:05:00.123456Z', EndTime: '2026-05-02' })]],
    [
      'Storage',
      [
        { Username: 'u', LocalProjectID: 'P', LocalRecordID: 's-1', Resource: 'st', CollectionTime: '2026-05-01T00:00:00.000Z', Charge: '1', Attributes: {} },
        { Username: 'u', LocalProjectID: 'P', LocalRecordID: 's-2', Resource: 'st', CollectionTime: '2026-05-01T02:00:00+02:00', Charge: 1e2, Attributes: {} },
      ],
    ],
    [
      'Adjustment',
      [
        { AdjustmentType: 'refund', Charge: '5', StartTime: '2026-05-01T10:00:00.000Z', LocalProjectID: 'P', LocalRecordID: 'a-1', Resource: 'r', Username: 'u' },
        { AdjustmentType: 'Storage-Debit', Charge: '-0', StartTime: '2026-05-01', LocalProjectID: 1, LocalRecordID: 'a-2', Resource: 'r', Username: 2 },
      ],
    ],
  ])('reads back every %s record as it was accepted', (type, records) => {
    for (const record of accepted(type, records)) {
      const stored = JSON.parse(JSON.stringify(storedForm(type, record, false))) as StoredRecord;
      expect(expandStored(type, stored, record.d)).toEqual(record);
    }
  });
});
