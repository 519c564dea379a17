import { DomainError } from '../../http/domain-error';
import { Field, fieldsOf, parseBody } from './input';

class Sample {
  @Field({ kind: 'string', required: true, notBlank: true, max: 5 })
  name!: string;

  @Field({ kind: 'int', oneOf: [1, 3], ruleMessage: 'One or three.' })
  count?: number;

  @Field({ kind: 'bool' })
  flag?: boolean;

  @Field({ kind: 'stringList' })
  tags?: string[];

  @Field({ kind: 'string', nullable: true, nullAsEmpty: true })
  note?: string;

  @Field({ kind: 'string', oneOf: ['a', 'b'] })
  choice?: string;
}

function thrown(run: () => void): DomainError {
  try {
    run();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a failure');
}

describe('allocation body input (Field, parseBody)', () => {
  it('declares the fields in order', () => {
    expect(fieldsOf(Sample).map((f) => f.name)).toEqual(['name', 'count', 'flag', 'tags', 'note', 'choice']);
  });

  it('reads form strings and JSON values to the same typed values, dropping unknown keys', () => {
    const form = parseBody(Sample, { name: 'x', count: '3', flag: 'True', tags: 'one', note: 'n', other: 'ignored' });
    const json = parseBody(Sample, { name: 'x', count: 3, flag: true, tags: ['one'], note: 'n', id: 7 });
    for (const parsed of [form, json]) {
      expect(parsed.values).toEqual({ name: 'x', count: 3, flag: true, tags: ['one'], note: 'n' });
      expect(() => parsed.check()).not.toThrow();
    }
  });

  it('collects failures without throwing, then throws them in the mount shape', () => {
    const parsed = parseBody(Sample, { count: '2', flag: 'yes', choice: 'c' });
    expect(parsed.errors).toEqual({
      name: ['This field is required.'],
      count: ['One or three.'],
      flag: ['Must be a valid boolean.'],
      choice: ['Must be one of a, b.'],
    });
    const error = thrown(() => parsed.check());
    expect(error.message).toBe('name: This field is required.');
    expect(error.extra.fields).toEqual(parsed.errors);
    expect(thrown(() => parsed.check(['flag'])).message).toBe('flag: Must be a valid boolean.');
  });

  it('makes nothing required when partial, but keeps the rules', () => {
    const parsed = parseBody(Sample, { name: '  ' }, { partial: true });
    expect(parsed.errors).toEqual({ name: ['This field may not be blank.'] });
    expect(parseBody(Sample, {}, { partial: true }).errors).toEqual({});
  });

  it('stores JSON null as "" where asked, and forgets ignored fields with their failures', () => {
    const parsed = parseBody(Sample, { name: 'x', note: null, flag: 'maybe' });
    expect(parsed.values.note).toBe('');
    parsed.ignore(['flag']);
    expect(() => parsed.check()).not.toThrow();
  });

  it('keeps a body that is not an object as a 400 for the first check', () => {
    const parsed = parseBody(Sample, [1, 2], { partial: true });
    expect(thrown(() => parsed.check(['name'])).message).toBe('The request body must be an object');
  });

  it('tells sent-but-empty from non-empty values', () => {
    const parsed = parseBody(Sample, { a: '', b: [''], c: 'x', d: null });
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => parsed.sentNonEmpty(k))).toEqual([false, false, true, false, false]);
  });
});
