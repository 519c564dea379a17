import { ArrayMaxSize, IsArray, IsString, IsUUID, Length, Matches } from 'class-validator';
import { DomainError } from './domain-error';
import { DtoValidationPipe, namedMessage } from './validation.pipe';

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
    expect(error.message).toBe('id must be a UUID');
    expect(error.extra.fields).toEqual({ id: 'id must be a UUID' });
  });

  it('refuses a path parameter the DTO does not declare', () => {
    const error = fail(() => pipe.transform({ id: '6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10', other: 'x' }, { type: 'param', metatype: IdParams }));
    expect(error.message).toBe('other is not a known field');
  });

  it('validates query DTOs as before', () => {
    expect(fail(() => pipe.transform({ name: 'A' }, { type: 'query', metatype: NameQuery })).message).toBe('name must be lower-case letters');
  });

  it('names the field once: the path is added only where the message does not start with it', () => {
    class Nested {
      @Matches(/^[a-z]+$/, { message: 'limit must be lower-case letters' })
      limit: string;
    }
    expect(namedMessage('user_id', 'user_id must be a non-empty string')).toBe('user_id must be a non-empty string');
    expect(namedMessage('holdings[1].limit', 'limit must be lower-case letters')).toBe('holdings[1].limit: limit must be lower-case letters');
    expect(namedMessage('user', 'user_id must be set')).toBe('user: user_id must be set');
    expect(fail(() => pipe.transform({ limit: 'A' }, { type: 'query', metatype: Nested })).message).toBe('limit must be lower-case letters');
  });

  it('reports one rule per field, the first declared of those that fail', () => {
    class TokenBody {
      @IsString({ message: 'name must be a string' })
      @Length(1, 200, { message: 'name must be 1 to 200 characters' })
      name: string;

      @IsArray({ message: 'ids must be an array of strings' })
      @ArrayMaxSize(2, { message: 'ids must have at most 2 entries' })
      ids: string[];
    }
    const error = fail(() => pipe.transform({ ids: 'abc' }, { type: 'body', metatype: TokenBody }));
    expect(error.extra.fields).toEqual({ name: 'name must be a string', ids: 'ids must be an array of strings' });
    expect(error.message).toBe('name must be a string');
    expect(fail(() => pipe.transform({ name: '', ids: ['a', 'b', 'c'] }, { type: 'body', metatype: TokenBody })).extra.fields).toEqual({
      name: 'name must be 1 to 200 characters',
      ids: 'ids must have at most 2 entries',
    });
  });

  it('passes a single named parameter and unvalidated types through', () => {
    expect(pipe.transform('anything', { type: 'param', metatype: String, data: 'id' })).toBe('anything');
    const raw = { any: 'thing' };
    expect(pipe.transform(raw, { type: 'body', metatype: Object })).toBe(raw);
    expect(pipe.transform(raw, { type: 'custom', metatype: IdParams })).toBe(raw);
  });
});
