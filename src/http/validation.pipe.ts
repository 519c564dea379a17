import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { CommonError, DomainError } from './domain-error';

const WHAT = { body: 'request body', query: 'query string', param: 'path' };

/**
 * Validates `@Body()`/`@Query()`/`@Param()` arguments typed with a class-validator DTO and
 * turns failures into a DomainError whose message names the field, e.g.
 * `role: role must be one of admin, service, reader, user`. Arguments typed
 * otherwise (raw protocol bodies validated by their own rules) pass as they are.
 */
@Injectable()
export class DtoValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype;
    if (!type || (metadata.type !== 'body' && metadata.type !== 'query' && metadata.type !== 'param') || !hasValidationRules(type)) return value;
    return validateDto(type as new () => object, value, WHAT[metadata.type]);
  }
}

function hasValidationRules(type: Function): boolean {
  return getMetadataStorage().getTargetValidationMetadatas(type, '', false, false).length > 0;
}

export function validateDto<T extends object>(type: new () => T, value: unknown, what = 'request body'): T {
  if (value === undefined || value === null) {
    throw new DomainError(CommonError.Validation, `${what} is required`);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new DomainError(CommonError.Validation, `${what} must be a JSON object`);
  }
  const instance = plainToInstance(type, value);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const fields = flatten(errors);
    const first = Object.entries(fields)[0];
    throw new DomainError(CommonError.Validation, `${first[0]}: ${first[1]}`, { fields });
  }
  return instance;
}

function flatten(errors: ValidationError[], prefix = ''): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) {
      const messages = Object.values(error.constraints).map((m) => m.replace(/^property (\S+) should not exist$/, '$1 is not a known field'));
      fields[path] = messages.join('; ');
    }
    if (error.children?.length) Object.assign(fields, flatten(error.children, path));
  }
  return fields;
}
