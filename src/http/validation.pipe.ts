import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { CommonError, DomainError } from './domain-error';

export type Where = 'body' | 'query' | 'param';

const WHAT: Record<Where, string> = { body: 'request body', query: 'query string', param: 'path parameters' };

/**
 * How the DTO classes of a protocol whose contract fixes its error wording are
 * validated and reported (set with `@ValidationPolicy`, one policy per mount).
 * Without one: unknown fields are refused and failures answer
 * CommonError.Validation with `field: message`.
 */
export interface DtoValidationPolicy {
  /** Unknown fields: reported as failures (`forbid`, the default) or dropped (`strip`). */
  unknown?: 'forbid' | 'strip';
  /** The error for a value that is absent or not a JSON object. */
  notAnObject?: (where: Where) => Error;
  /** The error for the failures, in the class's declaration order (unknown fields first). */
  failure?: (errors: ValidationError[], where: Where) => Error;
  /**
   * Builds the instance to validate instead of class-transformer's
   * plainToInstance, whose deep copy cannot hold arbitrary JSON (it throws on
   * a nested object with a `constructor` key) and drops such keys.
   */
  instantiate?: (type: new () => object, value: object) => object;
}

const POLICIES = new WeakMap<Function, DtoValidationPolicy>();

/** Gives a DTO class (and its subclasses) a validation policy. */
export function ValidationPolicy(policy: DtoValidationPolicy): ClassDecorator {
  return (target) => {
    POLICIES.set(target, policy);
  };
}

function policyOf(type: Function): DtoValidationPolicy {
  for (let t: unknown = type; typeof t === 'function' && t !== Function.prototype; t = Object.getPrototypeOf(t)) {
    const policy = POLICIES.get(t);
    if (policy) return policy;
  }
  return {};
}

/**
 * Validates `@Body()`, `@Query()` and `@Param()` arguments typed with a
 * class-validator DTO and turns failures into a DomainError whose message
 * names the field, e.g. `role: role must be one of admin, service, reader,
 * user` (or the error of the class's ValidationPolicy). Arguments typed
 * otherwise (`@Param('id') id: string`, raw protocol bodies validated by
 * their own rules) pass as they are.
 */
@Injectable()
export class DtoValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype;
    const where = metadata.type;
    if (!type || (where !== 'body' && where !== 'query' && where !== 'param') || !hasValidationRules(type)) return value;
    return validateDto(type as new () => object, value, where);
  }
}

function hasValidationRules(type: Function): boolean {
  return getMetadataStorage().getTargetValidationMetadatas(type, '', false, false).length > 0;
}

export function validateDto<T extends object>(type: new () => T, value: unknown, where: Where = 'body'): T {
  const what = WHAT[where];
  const policy = policyOf(type);
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (policy.notAnObject) throw policy.notAnObject(where);
    throw new DomainError(CommonError.Validation, value === undefined || value === null ? `${what} is required` : `${what} must be a JSON object`);
  }
  const instance = (policy.instantiate ? policy.instantiate(type, value) : plainToInstance(type, value)) as T;
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: policy.unknown !== 'strip', forbidUnknownValues: true });
  if (errors.length > 0) {
    if (policy.failure) throw policy.failure(errors, where);
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
