import { IsUUID, Matches } from 'class-validator';
import { DomainError } from './domain-error';
import { DtoValidationPipe } from './validation.pipe';

class IdParams {
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;
}

class NameQuery {
  @Matches(/^[a-z]+$/, { message: 'name must be lower-case letters' })
  name: string;
}

describe(DtoValidationPipe.name, () => {
  const pipe = new DtoValidationPipe();
  const fail = (run: () => unknown): DomainError => {
    try {
      run();
    } catch (error) {
      return error as DomainError;
    }
    throw new Error('no error');
  };

  it('validates and types path parameters declared as a DTO', () => {
    const id = '6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10';
    const params = pipe.transform({ id }, { type: 'param', metatype: IdParams });
    expect(params).toBeInstanceOf(IdParams);
    expect(params).toEqual({ id });
    const error = fail(() => pipe.transform({ id: 'nope' }, { type: 'param', metatype: IdParams }));
    expect(error).toBeInstanceOf(DomainError);
    expect(error.message).toBe('id: id must be a UUID');
    expect(error.extra.fields).toEqual({ id: 'id must be a UUID' });
  });

  it('refuses a path parameter the DTO does not declare', () => {
    const error = fail(() => pipe.transform({ id: '6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10', other: 'x' }, { type: 'param', metatype: IdParams }));
    expect(error.message).toBe('other: other is not a known field');
  });

  it('validates query DTOs as before', () => {
    expect(fail(() => pipe.transform({ name: 'A' }, { type: 'query', metatype: NameQuery })).message).toBe('name: name must be lower-case letters');
  });

  it('passes a single named parameter and unvalidated types through', () => {
    expect(pipe.transform('anything', { type: 'param', metatype: String, data: 'id' })).toBe('anything');
    const raw = { any: 'thing' };
    expect(pipe.transform(raw, { type: 'body', metatype: Object })).toBe(raw);
    expect(pipe.transform(raw, { type: 'custom', metatype: IdParams })).toBe(raw);
  });
});
