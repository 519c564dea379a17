import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { CommonError, DomainError } from './domain-error';

/** Per-DTO choices a protocol may need (set with `@DtoOptions` on the class). */
export interface DtoOptionsValue {
  /** `forbid` (the default): an unknown field is a 400; `strip`: unknown fields are dropped (protocols that ignore them). */
  unknownFields?: 'forbid' | 'strip';
  /** The argument may be absent altogether (no body): the handler then receives `undefined`. */
  optional?: boolean;
}

const DTO_OPTIONS = Symbol('dto-options');

/** Marks a DTO class with the choices of DtoOptionsValue. */
export function DtoOptions(options: DtoOptionsValue): ClassDecorator {
  return (target) => Reflect.defineMetadata(DTO_OPTIONS, options, target);
}

function optionsOf(type: Function): DtoOptionsValue {
  return (Reflect.getMetadata(DTO_OPTIONS, type) as DtoOptionsValue | undefined) ?? {};
}

const WHAT: Record<string, string> = { body: 'request body', query: 'query string', param: 'path parameters' };

/**
 * Validates `@Body()`/`@Query()`/`@Param()` arguments typed with a
 * class-validator DTO and turns failures into a DomainError whose message
 * names the field, e.g. `role: role must be one of admin, service, reader, user`
 * (list members as `holdings[1].limit`). Arguments typed otherwise (raw
 * protocol bodies validated by their own rules) pass as they are.
 */
@Injectable()
export class DtoValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype;
    if (!type || !(metadata.type in WHAT) || !hasValidationRules(type)) return value;
    if (value === undefined && optionsOf(type).optional) return undefined;
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
  const forbid = optionsOf(type).unknownFields !== 'strip';
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: forbid, forbidUnknownValues: true });
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
    const path = !prefix ? error.property : /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`;
    if (error.constraints) {
      const messages = Object.values(error.constraints).map((m) => m.replace(/^property (\S+) should not exist$/, '$1 is not a known field'));
      fields[path] = [...new Set(messages)].join('; ');
    }
    if (error.children?.length) Object.assign(fields, flatten(error.children, path));
  }
  return fields;
}
