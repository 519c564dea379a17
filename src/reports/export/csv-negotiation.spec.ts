import { DomainError } from '../../http/domain-error';
import { negotiateFormat, prefersCsv } from './csv-negotiation';

describe(negotiateFormat.name, () => {
  it('defaults to JSON', () => {
    expect(negotiateFormat({}, undefined)).toBe('json');
    expect(negotiateFormat({}, '*/*')).toBe('json');
    expect(negotiateFormat({ limit: 10, cursor: 'abc' }, 'application/json')).toBe('json');
  });

  it('answers CSV for format=csv or Accept: text/csv; the query parameter wins', () => {
    expect(negotiateFormat({ format: 'csv' }, undefined)).toBe('csv');
    expect(negotiateFormat({}, 'text/csv')).toBe('csv');
    expect(negotiateFormat({ format: 'json' }, 'text/csv')).toBe('json');
    expect(negotiateFormat({ format: 'csv' }, 'application/json')).toBe('csv');
  });

  it('refuses limit and cursor with CSV, naming limit first and both in fields', () => {
    const refusal = (query: object, accept?: string) => {
      try {
        negotiateFormat(query, accept);
      } catch (error) {
        return error as DomainError;
      }
      throw new Error('no refusal');
    };
    const both = refusal({ format: 'csv', cursor: 'c', limit: 5 });
    expect(both.code).toBe('common.validation');
    expect(both.message).toBe('limit: not accepted with CSV: an export has no pages');
    expect(both.extra.fields).toEqual({ limit: 'not accepted with CSV: an export has no pages', cursor: 'not accepted with CSV: an export has no pages' });
    expect(refusal({ cursor: 'c' }, 'text/csv').message).toMatch(/^cursor: /);
  });
});

describe(prefersCsv.name, () => {
  it.each([
    ['text/csv', true],
    ['TEXT/CSV; charset=utf-8', true],
    ['text/csv, application/json', true],
    ['application/json, text/csv', false],
    ['application/json;q=0.5, text/csv', true],
    ['text/csv;q=0.2, application/json;q=0.9', false],
    ['text/csv;q=0, */*', false],
    ['text/*', false],
    ['*/*', false],
    ['', false],
    ['text/csv;q=abc', false],
  ])('%j → %s', (accept, expected) => {
    expect(prefersCsv(accept)).toBe(expected);
  });

  it('reads repeated headers', () => {
    expect(prefersCsv(['text/csv', 'application/json;q=0.1'])).toBe(true);
  });
});
