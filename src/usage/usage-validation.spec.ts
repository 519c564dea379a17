import fc from 'fast-check';
import { parseAmieDateTime, parseStatusBound } from './usage-dates';
import { jsonTextProblem, storableText, toDecimal, validateMessage } from './usage-validation';

describe('toDecimal', () => {
  it.each([
    ['12.5', '12.5', 2],
    ['0', '0', 0],
    ['-0', '0', 0],
    ['1e3', '1000', 4],
    ['1.50E-2', '0.015', 0],
    ['  007.10 ', '7.1', 1],
    ['.5', '0.5', 0],
    [1e21, '1000000000000000000000', 22],
    [0.1, '0.1', 0],
  ])('reads %p as %s', (input, text, digits) => {
    expect(toDecimal(input)).toEqual({ negative: false, integerDigits: digits, text });
  });

  it.each(['', 'abc', '1.2.3', '1e', '--1', true, null, NaN, Infinity, {}])('refuses %p', (input) => {
    expect(toDecimal(input)).toBeNull();
  });

  it('marks negatives', () => {
    expect(toDecimal('-4')).toEqual({ negative: true, integerDigits: 1, text: '-4' });
  });
});

describe('parseAmieDateTime', () => {
  it('reads offsets and treats a missing one as UTC', () => {
    expect(parseAmieDateTime('2024-05-01T12:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseAmieDateTime('2024-05-01T12:00:00-0130')).toBe(Date.UTC(2024, 4, 1, 13, 30));
    expect(parseAmieDateTime('2024-05-01 12:00')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseAmieDateTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  it('refuses impossible dates', () => {
    expect(parseAmieDateTime('2023-02-29')).toBeNull();
    expect(parseAmieDateTime('2024-05-01T12:60')).toBeNull();
    expect(parseAmieDateTime('2024-05-01T12:00+24:00')).toBeNull();
  });

  it('reads a status bound whose "+" became a space, to the microsecond', () => {
    expect(parseStatusBound('2024-05-01T12:00:00.000001 00:00')).toBe(BigInt(Date.UTC(2024, 4, 1, 12)) * 1000n + 1n);
  });
});

describe(validateMessage.name, () => {
  const now = Date.UTC(2024, 5, 1);
  const base = {
    Username: 'u',
    LocalProjectID: 'p',
    LocalRecordID: 'r',
    Resource: 'c',
    SubmitTime: '2024-05-01T00:00:00Z',
    StartTime: '2024-05-01T00:00:00Z',
    EndTime: '2024-05-01T01:00:00Z',
    Charge: '1',
    Attributes: { NodeCount: 1 },
  };

  it('normalises a valid record', () => {
    const [outcome] = validateMessage({ UsageType: 'COMPUTE', Records: [{ ...base, LocalRecordID: 42, Charge: 2.5 }] }, now).outcomes;
    expect(outcome).toEqual({
      ok: true,
      record: expect.objectContaining({ n: 0, r: 'c', i: '42', c: '2.5', s: '2024-05-01T00:00:00.000Z', e: '2024-05-01T01:00:00.000Z', a: null }),
    });
  });

  it('refuses an integer identifier whose decimal text is over 255 characters', () => {
    const [a, b] = validateMessage({ UsageType: 'Compute', Records: [{ ...base, LocalRecordID: 1e256 }, { ...base, LocalRecordID: 1e255 }] }, now).outcomes;
    expect(a).toMatchObject({ ok: false, error: 'LocalRecordID: must be at most 255 characters' });
    expect(b).toMatchObject({ ok: true });
  });

  it('gives the same texts whether or not the compiled schema refused the record', () => {
    // Charge "-1" passes the schema's pattern (the sign is checked after it); -1 fails its minimum.
    const [a, b] = validateMessage({ UsageType: 'Compute', Records: [{ ...base, Charge: '-1' }, { ...base, LocalRecordID: 's', Charge: -1 }] }, now).outcomes;
    expect(a).toMatchObject({ ok: false, error: 'Charge: must not be negative' });
    expect(b).toMatchObject({ ok: false, error: 'Charge: must not be negative' });
  });
});

describe('text PostgreSQL cannot store', () => {
  it.each([
    ['plain text', { a: ['b', { c: 'd' }] }, null],
    ['a NUL deep down', { a: ['b', { c: 'd\u0000' }] }, 'must not contain NUL characters'],
    ['a NUL in a key', { a: { 'k\u0000': 1 } }, 'must not contain NUL characters'],
    ['an unpaired high surrogate', ['\ud800x'], 'must not contain unpaired surrogates'],
    ['an unpaired low surrogate', '\udc00', 'must not contain unpaired surrogates'],
    ['a NUL and a surrogate: NUL first', ['\ud800', '\u0000'], 'must not contain NUL characters'],
    ['a pair', '😀', null],
  ])('%s', (_name, value, problem) => {
    expect(jsonTextProblem(value)).toBe(problem);
  });

  it('walks deep values without recursion', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonTextProblem(deep)).toBe('must not contain NUL characters');
  });

  it('replaces what cannot be stored with U+FFFD, keeping pairs', () => {
    expect(storableText('a\u0000b\ud800c😀\udc00')).toBe('a\uFFFDb\uFFFDc😀\uFFFD');
  });

  it('names every field with a problem, in table order, and drops the identity', () => {
    const [outcome] = validateMessage({ UsageType: 'Compute', Records: [{ LocalRecordID: 'r\u0000', Resource: 'c', Zed: '\u0000' }] }, Date.UTC(2024, 5, 1)).outcomes;
    expect(outcome).toMatchObject({ ok: false, resource: 'c', localRecordId: null });
    expect(outcome.ok ? '' : outcome.error).toMatch(/^Username: required; LocalProjectID: required; LocalRecordID: must not contain NUL characters; .*; Zed: must not contain NUL characters$/);
  });
});

describe('the compiled schemas (fast path)', () => {
  const now = Date.UTC(2024, 5, 1);
  const values = fc.constantFrom<unknown>(
    undefined, null, '', ' ', 'x', 'x\u0000', '\ud800', '12.5', '-1', '1e3', 'abc', '4', '0', ' 7 ', 0, 1, -1, 2.5, 1e16, 1e255, 1e256, true, [], [null], ['1'], [1, 2], {},
    { NodeCount: 1 }, { NodeCount: '0' }, { NodeCount: 2, Memory: -1 }, { CollectionInterval: 0 }, { CollectionInterval: '0.5', MediaType: 5 }, { FileCount: null },
    'r'.repeat(255), 'r'.repeat(256), '2024-05-01T00:00:00Z', '2024-05-01', '2024-02-30', '2099-01-01', 'credit', 'REFUND', 'loan',
  );
  const VALID: Record<string, Record<string, unknown>> = {
    Compute: { Username: 'u', LocalProjectID: 'p', LocalRecordID: 'r', Resource: 'c', SubmitTime: '2024-05-01T00:00:00Z', StartTime: '2024-05-01T00:00:00Z', EndTime: '2024-05-01T01:00:00Z', Charge: '1', Attributes: { NodeCount: 1 }, ParentRecordID: [null] },
    Storage: { Username: 'u', LocalProjectID: 'p', LocalRecordID: 'r', Resource: 'c', CollectionTime: '2024-05-01T00:00:00Z', Charge: 3, Attributes: { BytesStored: 10 } },
    Adjustment: { AdjustmentType: 'credit', Charge: '5', StartTime: '2024-05-01', LocalProjectID: 'p', LocalRecordID: 'r', Resource: 'c', Username: 'u' },
  };
  // A valid record with up to three fields replaced (undefined removes one): most stay close to valid, so both paths run.
  const record = (type: string, fields: string[]) =>
    fc.array(fc.tuple(fc.constantFrom(...fields, 'Unknown'), values), { maxLength: 3 }).map((changes) => {
      const r: Record<string, unknown> = { ...VALID[type] };
      for (const [field, value] of changes) if (value === undefined) delete r[field]; else r[field] = value;
      return r;
    });
  const FIELDS = {
    Compute: ['Username', 'LocalProjectID', 'LocalRecordID', 'Resource', 'SubmitTime', 'StartTime', 'EndTime', 'Charge', 'Attributes', 'ParentRecordID', 'LocalReference'],
    Storage: ['Username', 'LocalProjectID', 'LocalRecordID', 'Resource', 'CollectionTime', 'Charge', 'Attributes', 'LocalReference'],
    Adjustment: ['AdjustmentType', 'Charge', 'StartTime', 'LocalProjectID', 'LocalRecordID', 'Resource', 'Username', 'Comment', 'LocalReference'],
  };

  it.each(Object.entries(FIELDS))('change no outcome of a %s record, whatever its fields hold', (type, fields) => {
    fc.assert(
      fc.property(fc.array(record(type, fields), { minLength: 1, maxLength: 4 }), (records) => {
        const body = { UsageType: type, Records: records };
        expect(validateMessage(body, now)).toEqual(validateMessage(body, now, { schema: false }));
      }),
      { numRuns: 400 },
    );
  });
});
