import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { CommonError, DomainError } from './domain-error';

/** The argument kinds the pipe validates; other kinds pass as they are. */
export type Where = 'body' | 'query' | 'param';

/** What each validated argument is called in messages. */
const WHAT: Record<Where, string> = { body: 'request body', query: 'query string', param: 'path parameters' };

/**
 * How the DTO classes of a protocol are validated and reported, set with
 * `@ValidationPolicy` on the class (or a base class shared by a mount's DTOs):
 * the one place where a protocol whose contract fixes its own error wording
 * maps validation failures. Without a policy: unknown fields are refused,
 * the argument is required, and failures answer CommonError.Validation with
 * `field: message` and every failing field in `fields`.
 */
export interface DtoValidationPolicy {
  /** Unknown fields: reported as failures (`forbid`, the default) or dropped (`strip`, protocols that ignore them). */
  unknown?: 'forbid' | 'strip';
  /** The argument may be absent altogether (no body): the handler then receives `undefined`. */
  optional?: boolean;
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
 * names the field once, e.g. `role must be one of admin, service, reader,
 * user` or `holdings[1].limit: limit must be …` (or the error of the class's ValidationPolicy). Arguments typed
 * otherwise (`@Param('id') id: string`, raw protocol bodies validated by a
 * module pipe of their own) pass as they are.
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

const ruleCache = new Map<Function, boolean>();

function hasValidationRules(type: Function): boolean {
  let known = ruleCache.get(type);
  if (known === undefined) {
    known = getMetadataStorage().getTargetValidationMetadatas(type, '', false, false).length > 0;
    ruleCache.set(type, known);
  }
  return known;
}

export function validateDto<T extends object>(type: new () => T, value: unknown, where: Where = 'body'): T {
  const what = WHAT[where];
  const policy = policyOf(type);
  if (value === undefined && policy.optional) return undefined as unknown as T;
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (policy.notAnObject) throw policy.notAnObject(where);
    throw new DomainError(CommonError.Validation, value === undefined || value === null ? `${what} is required` : `${what} must be a JSON object`);
  }
  let instance: T;
  try {
    instance = (policy.instantiate ? policy.instantiate(type, value) : plainToInstance(type, value)) as T;
  } catch {
    // class-transformer's deep copy throws on some key names (a nested
    // `constructor` object): such a body is bad input, not a server fault.
    throw new DomainError(CommonError.Validation, `${what} has a field name that is not accepted (such as "constructor")`);
  }
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: policy.unknown !== 'strip', forbidUnknownValues: true });
  if (errors.length > 0) {
    if (policy.failure) throw policy.failure(errors, where);
    const fields = flattenValidationErrors(errors);
    const [path, message] = Object.entries(fields)[0];
    throw new DomainError(CommonError.Validation, namedMessage(path, message), { fields });
  }
  return instance;
}

/**
 * `path: message`, unless the message already starts with the path (`user_id
 * must be …`): the field is named once, not `user_id: user_id must be …`.
 */
export function namedMessage(path: string, message: string): string {
  return message.startsWith(`${path} `) ? message : `${path}: ${message}`;
}

/**
 * Every failing field as `path: message` (list members as `holdings[1].limit`):
 * one message per field, that of the first rule declared on it. Once the
 * first rule (usually the type: `@IsString`, `@IsArray`) fails the later ones
 * say nothing useful (`name must be 1 to 200 characters; name must be a
 * string` for an absent name, `project_ids must have at most 10000 entries`
 * for a string). TypeScript applies a property's decorators bottom-up, so
 * class-validator runs and reports them last-declared first: the first
 * declared is the last reported.
 */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const error of errors) {
    const path = !prefix ? error.property : /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`;
    const reported = Object.values(error.constraints ?? {});
    if (reported.length > 0) fields[path] = reported[reported.length - 1].replace(/^property (\S+) should not exist$/, '$1 is not a known field');
    if (error.children?.length) Object.assign(fields, flattenValidationErrors(error.children, path));
  }
  return fields;
}
