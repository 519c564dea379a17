import fc from 'fast-check';
import { isoOfAmieDateTime, parseAmieDateTime, parseAmieDateTimeMicros, parseStatusBound } from './usage-dates';
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

  it('reads every year as Date.UTC does, to the millisecond as the microseconds truncated, and writes the ISO text Date writes', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    const text = fc
      .record({
        year: fc.integer({ min: 0, max: 9999 }),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 28 }),
        time: fc.option(fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.option(fc.integer({ min: 0, max: 59 })))),
        fraction: fc.option(fc.stringMatching(/^\d{1,9}$/)),
        zone: fc.constantFrom('', 'Z', 'z', '+02:00', '-0130', '+00:00', '-23:59'),
        sep: fc.constantFrom('T', 't', ' '),
      })
      .map(({ year, month, day, time, fraction, zone, sep }) => {
        const date = `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}`;
        if (!time) return date;
        const [h, m, sec] = time;
        return `${date}${sep}${two(h)}:${two(m)}${sec === null ? '' : `:${two(sec)}${fraction === null ? '' : `.${fraction}`}`}${zone}`;
      });
    fc.assert(
      fc.property(text, (t) => {
        const micros = parseAmieDateTimeMicros(t)!;
        const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.exec(t)!;
        const zone = m[8] && !/^[Zz]$/.test(m[8]) ? m[8].replace(':', '') : '+0000';
        const offset = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
        const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) - offset * 60_000;
        expect(micros).toBe(BigInt(utc) * 1000n + BigInt((m[7] ?? '').slice(0, 6).padEnd(6, '0')));
        const ms = parseAmieDateTime(t)!;
        expect(ms).toBe(Number(micros / 1000n));
        expect(isoOfAmieDateTime(t, ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 3000 },
    );
  });

  it.each(['2026-05-01T10:00:00.123Z', '2026-05-01T10:00:00+0200', '2026-05-01T10:00:00.1234', '2026-05-01t10:00:00.123z', '0999-05-01T10:00:00.123Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '2026-05-01 10:00:00.123Z'])(
    'gives toISOString of %s (the text itself only when it is that form)',
    (t) => {
      const ms = parseAmieDateTime(t)!;
      expect(isoOfAmieDateTime(t, ms)).toBe(new Date(ms).toISOString());
    },
  );

  it('reads exactly the texts of the grammar, as the regular-expression reading did', () => {
    // The reading before the character-by-character parser, kept as the reference.
    const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    const reference = (text: string): bigint | null => {
      const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.exec(text);
      if (!m) return null;
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month - 1])) return null;
      const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
      if (hour > 23 || minute > 59 || second > 59) return null;
      const micros = m[7] === undefined ? 0 : Number(m[7].slice(0, 6).padEnd(6, '0'));
      let offset = 0;
      if (m[8] && m[8] !== 'Z' && m[8] !== 'z') {
        const digits = m[8].slice(1).replace(':', '');
        const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2, 4))];
        if (oh > 23 || om > 59) return null;
        offset = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
      }
      return BigInt(Date.UTC(year, month - 1, day, hour, minute, second) - offset * 60_000) * 1000n + BigInt(micros);
    };
    const valid = '2024-02-29T23:59:59.1234567+23:59';
    const texts = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789-:.Tt Zz+x'), maxLength: 34 }),
      // the shape of the grammar with any digits: impossible dates, hours, offsets
      fc
        .tuple(fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/), fc.stringMatching(/^([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{0,8})?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/))
        .map(([date, time]) => date + time),
      // a valid text with one character replaced, removed or added
      fc.tuple(fc.nat(valid.length), fc.constantFrom(...'0123456789-:.Tt Zz+x', ''), fc.constantFrom('replace', 'insert')).map(([i, c, how]) =>
        valid.slice(0, i) + c + valid.slice(how === 'replace' ? i + 1 : i),
      ),
      fc.tuple(fc.nat(valid.length), fc.nat(valid.length)).map(([a, b]) => valid.slice(0, Math.max(a, b)).slice(0, Math.max(10, Math.min(a, b)))),
    );
    fc.assert(
      fc.property(texts, (t) => {
        expect(parseAmieDateTimeMicros(t)).toBe(reference(t));
      }),
      { numRuns: 20000 },
    );
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
    'r'.repeat(255), 'r'.repeat(256), '😀'.repeat(128), 'c'.repeat(1024), 'c'.repeat(1025), '😀'.repeat(513), '\t\n', '2024-05-01T00:00:00Z', '2024-05-01', '2024-02-30', '2099-01-01', 'credit', 'REFUND', 'loan',
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
        const reference = validateMessage(body, now, { schema: false });
        expect(validateMessage(body, now)).toEqual(reference);
        // What the message pipe passes when the JSON text had no \u escape (the only way in for NUL or a lone surrogate).
        if (!JSON.stringify(body).includes('\\u')) expect(validateMessage(body, now, { textSafe: true })).toEqual(reference);
      }),
      { numRuns: 400 },
    );
  });
});
