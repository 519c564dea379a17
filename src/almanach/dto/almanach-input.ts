import { ValidateBy, ValidateIf, ValidationError } from 'class-validator';
import { DomainError } from '../../http/domain-error';
import { ValidationPolicy } from '../../http/validation.pipe';
import { parseAlmanachDate } from '../almanach-dates';
import { AlmanachError, INVALID_DATE, INVALID_PAYLOAD, missingParam } from '../almanach.errors';

/**
 * The Almanach wording of validation failures (almanach-v1.md 4), in one
 * place for the whole mount. Every Almanach DTO class carries one of the two
 * policies below; the global DtoValidationPipe applies it at the edge.
 *
 * Constraint names decide the answer: a key absent (PRESENT) → `The '<key>'
 * param is mandatory…`; a body date that does not parse (BODY_DATE) → the
 * date message; anything else (wrong JSON type, query date, size) →
 * `Invalid parameter or payload`. Only the first failing key counts, in the
 * order the DTO declares its keys — the reference's check order.
 */
const PRESENT = 'almanachPresent';
const BODY_DATE = 'almanachBodyDate';

export const invalidPayload = () => new DomainError(AlmanachError.InvalidPayload, INVALID_PAYLOAD);

function firstFailure(errors: ValidationError[]): DomainError {
  const first = errors[0];
  const failed = Object.keys(first.constraints ?? {});
  if (failed.includes(PRESENT)) return new DomainError(AlmanachError.MissingParam, missingParam(first.property));
  if (failed.includes(BODY_DATE)) return new DomainError(AlmanachError.InvalidDate, INVALID_DATE);
  return invalidPayload();
}

function fieldKeyed(fields: Record<string, string>): DomainError {
  const [key, message] = Object.entries(fields)[0];
  return new DomainError(AlmanachError.InvalidUpdate, `${key}: ${message}`, { fields });
}

type Parse = (raw: unknown) => unknown;
const PARSERS = new WeakMap<Function, Map<string, Parse>>();

/** Converts a key's JSON value at the edge (a date to Micros, a size to a number); what does not convert stays as sent and fails validation. */
function ParseWith(parse: Parse): PropertyDecorator {
  return (target, key) => {
    const parsers = PARSERS.get(target.constructor) ?? new Map<string, Parse>();
    parsers.set(String(key), parse);
    PARSERS.set(target.constructor, parsers);
  };
}

/**
 * A shallow instance of the DTO: each key of the body or query as sent,
 * through its ParseWith. No deep copy, so objects (`metadata`, `os`) are kept
 * exactly as given (5.13), whatever their keys.
 */
function instantiate(type: new () => object, value: object): object {
  const instance = new type() as Record<string, unknown>;
  const parsers = PARSERS.get(type);
  for (const [key, raw] of Object.entries(value)) {
    // An own `constructor` would hide the class from class-validator; it is no Almanach key anyway.
    if (key === 'constructor' || key === '__proto__') continue;
    const parse = parsers?.get(key);
    instance[key] = parse ? parse(raw) : raw;
  }
  return instance;
}

/** Bodies, queries and path parameters of every route but the update: first failure, unknown keys ignored (5.2). */
export const AlmanachInput = () => ValidationPolicy({ unknown: 'strip', notAnObject: invalidPayload, failure: firstFailure, instantiate });

/**
 * The update route (5.13) reports every problem keyed by field,
 * `{"error": {"<field>": "<message>"}}`; unknown keys are errors there.
 */
export const AlmanachUpdateInput = () =>
  ValidationPolicy({
    unknown: 'forbid',
    notAnObject: invalidPayload,
    instantiate: (type, value) => {
      if (Object.prototype.hasOwnProperty.call(value, 'constructor')) throw fieldKeyed({ constructor: 'extra keys not allowed' });
      return instantiate(type, value);
    },
    failure: (errors) => {
      const fields: Record<string, string> = {};
      for (const error of errors) {
        const constraints = error.constraints ?? {};
        fields[error.property] = constraints.whitelistValidation ? 'extra keys not allowed' : Object.values(constraints)[0];
      }
      return fieldKeyed(fields);
    },
  });

/** OpenAPI metadata of a body date and a query date (almanach-v1.md 2.2). */
export const API_BODY_DATE = {
  type: String,
  format: 'date-time',
  description: 'ISO 8601 with `T` or a space, any fraction, `Z`, an offset or none (UTC), or a bare date',
};
export const API_QUERY_DATE = {
  type: String,
  description: '`YYYY-MM-DD HH:MM:SS[.ffffff]` (a space may arrive as `+` or `%20`) or any body date form; UTC',
  example: '2016-01-01 00:00:00.000000',
};

/** The key must be in the body or query (its value may still be null). */
export function Present(): PropertyDecorator {
  return ValidateBy({ name: PRESENT, validator: { validate: (value) => value !== undefined, defaultMessage: () => 'is mandatory' } });
}

/** Validates the key only when it was sent. */
export const IfSent = () => ValidateIf((_, value) => value !== undefined);

/** Validates the key only when it is not null (a required key that may be null). */
export const UnlessNull = () => ValidateIf((_, value) => value !== null);

function combine(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => {
    for (const decorator of decorators) decorator(target, key);
  };
}

/** A body date (almanach-v1.md 2.2), parsed to microseconds at the edge; the property holds a Micros. */
export function BodyDate(): PropertyDecorator {
  return combine(
    ParseWith((raw) => parseAlmanachDate(raw) ?? raw),
    ValidateBy({ name: BODY_DATE, validator: { validate: (value) => typeof value === 'bigint', defaultMessage: () => INVALID_DATE } }),
  );
}

/** A query date (2.2: DATE_FORMAT_QS or any body form); unparseable or repeated → Invalid parameter or payload. */
export function QueryDate(): PropertyDecorator {
  return combine(
    ParseWith((raw) => parseAlmanachDate(raw) ?? raw),
    ValidateBy({ name: 'almanachQueryDate', validator: { validate: (value) => typeof value === 'bigint', defaultMessage: () => INVALID_PAYLOAD } }),
  );
}

/** The `integer` column of sizes (volumes, 5.7): larger sizes are refused rather than failing in PostgreSQL. */
export const MAX_SIZE = 2_147_483_647;

/** A size in GB: a whole number or a string of digits (the CLI sends strings, 5.7), 0 … MAX_SIZE. */
export function Size(): PropertyDecorator {
  return combine(
    ParseWith((raw) => (typeof raw === 'string' && /^\s*\d{1,10}\s*$/.test(raw) ? Number(raw) : raw)),
    ValidateBy({
      name: 'almanachSize',
      validator: {
        validate: (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_SIZE,
        defaultMessage: () => INVALID_PAYLOAD,
      },
    }),
  );
}

/**
 * A list of instance ids: null means none (the CLI sends null without
 * --attachment); with `lenient`, `""` means none and a single string is a
 * one-element list (5.7). Duplicates are dropped.
 */
export function IdList(lenient = false): PropertyDecorator {
  return combine(
    ParseWith((raw) => {
      if (raw === null) return [];
      if (lenient && typeof raw === 'string') return raw === '' ? [] : [raw];
      if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return [...new Set(raw)];
      return raw;
    }),
    ValidateBy({
      name: 'almanachIdList',
      validator: {
        validate: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'),
        defaultMessage: () => INVALID_PAYLOAD,
      },
    }),
  );
}
