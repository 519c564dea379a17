import { DomainError } from '../../http/domain-error';
import { BodyReader, isCalendarDate, parseBool, parseInteger } from './body-reader';

describe(BodyReader.name, () => {
  it('reads form strings and JSON values alike', () => {
    const form = new BodyReader({ n: '5', b: 'True', s: 'x', l: 'one' });
    const json = new BodyReader({ n: 5, b: true, s: 'x', l: ['one'] });
    for (const r of [form, json]) {
      expect(r.int('n')).toBe(5);
      expect(r.bool('b')).toBe(true);
      expect(r.string('s')).toBe('x');
      expect(r.stringList('l')).toEqual(['one']);
      expect(r.failed).toBe(false);
    }
  });

  it('treats absent keys as undefined and reports required ones', () => {
    const r = new BodyReader(undefined);
    expect(r.string('a')).toBeUndefined();
    expect(r.string('b', { required: true })).toBeUndefined();
    expect(r.errors).toEqual({ b: ['This field is required.'] });
  });

  it('collects every failure and throws them as one validation error naming the first field', () => {
    const r = new BodyReader({ a: 'maybe', b: ['1', '2'], c: 'x'.repeat(5) });
    r.bool('a');
    r.int('b');
    r.string('c', { max: 3 });
    expect(() => r.done()).toThrow(DomainError);
    try {
      r.done();
    } catch (error) {
      expect((error as DomainError).message).toBe('a: Must be a valid boolean.');
      expect(Object.keys((error as DomainError).extra.fields!)).toEqual(['a', 'b', 'c']);
    }
  });

  it('maps null and, when asked, the empty string to null for nullable fields', () => {
    const r = new BodyReader({ a: null, b: '', c: '' });
    expect(r.string('a', { nullable: true })).toBeNull();
    expect(r.string('b', { nullable: true, emptyIsNull: true })).toBeNull();
    expect(r.string('c', { nullable: true })).toBe('');
    expect(r.int('b', { nullable: true })).toBeNull();
  });

  it('refuses a body that is not an object', () => {
    expect(() => new BodyReader([1, 2])).toThrow(DomainError);
    expect(() => new BodyReader('text')).toThrow(DomainError);
  });
});

describe('value parsers', () => {
  it('accepts the boolean spellings of allocations.md 2.1 only', () => {
    for (const v of ['true', 'True', '1', true, 1]) expect(parseBool(v)).toBe(true);
    for (const v of ['false', 'False', '0', false, 0]) expect(parseBool(v)).toBe(false);
    for (const v of ['TRUE', 'yes', '', null, 2]) expect(parseBool(v)).toBeUndefined();
  });

  it('keeps integers within PostgreSQL integer range', () => {
    expect(parseInteger(' 42 ')).toBe(42);
    expect(parseInteger('-1')).toBe(-1);
    expect(parseInteger('2147483647')).toBe(2147483647);
    expect(parseInteger('2147483648')).toBeUndefined();
    expect(parseInteger(1.5)).toBeUndefined();
    expect(parseInteger('1e3')).toBeUndefined();
  });

  it('accepts real calendar dates only', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('0000-01-01')).toBe(false);
    expect(isCalendarDate('2024-1-01')).toBe(false);
  });
});
