import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsObject, ValidateBy, ValidateNested, ValidationArguments } from 'class-validator';

/**
 * The validation rules and their wording for every quotas input, in one
 * place for both mounts (quotas.md 2, 4.6–4.10, 6). The global
 * DtoValidationPipe prefixes each message with the field's path
 * (`provisions[1].quantity: ...`); under /astakos the 400 is a `badRequest`
 * fault, under /admin an `{"error"}` body.
 */
export const MESSAGES = {
  required: 'is required',
  string: 'must be a string',
  stringOrNull: 'must be a string or null',
  boolean: 'must be a boolean',
  object: 'must be an object',
  list: 'must be a list',
  quantity: `must be an integer between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
  limit: `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`,
  serialList: 'must be a list of integer serials',
  serialPath: (value: unknown) => `must be a decimal integer, not ${JSON.stringify(value)}`,
  resourceName: 'must be 1 to 255 characters',
  once: 'must be given once, as one string',
  acceptOrReject: 'request body must hold exactly one of the keys accept and reject (Specify either accept or reject action)',
} as const;

/** A JSON integer in the safe range (quotas.md 2, "Numbers"); booleans and strings are not; absent is "is required". */
export function IsSafeInteger(message: string = MESSAGES.quantity, min = -Number.MAX_SAFE_INTEGER): PropertyDecorator {
  return ValidateBy({
    name: 'isSafeInteger',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min,
      defaultMessage: (args?: ValidationArguments) => (args?.value === undefined ? MESSAGES.required : message),
    },
  });
}

/** A string or `null`, present either way (a provision's or a holding's source). */
export function IsStringOrNull(): PropertyDecorator {
  return ValidateBy({
    name: 'isStringOrNull',
    validator: {
      validate: (value: unknown) => value === null || typeof value === 'string',
      defaultMessage: (args?: ValidationArguments) => (args?.value === undefined ? MESSAGES.required : MESSAGES.stringOrNull),
    },
  });
}

/** A present string (a provision's holder or resource). */
export function IsRequiredString(): PropertyDecorator {
  return ValidateBy({
    name: 'isRequiredString',
    validator: {
      validate: (value: unknown) => typeof value === 'string',
      defaultMessage: (args?: ValidationArguments) => (args?.value === undefined ? MESSAGES.required : MESSAGES.string),
    },
  });
}

/** A required JSON object validated as `type`. */
export function NestedObject(type: () => Function): PropertyDecorator {
  return applyDecorators(
    IsObject({ message: (args: ValidationArguments) => (args.value === undefined ? MESSAGES.required : MESSAGES.object) }),
    ValidateNested({ message: MESSAGES.object }),
    Type(type),
  );
}

/**
 * A required list whose members are JSON objects validated as `type`; a
 * member that is not an object fails as `<field>[i]: must be an object`.
 */
export function NestedList(type: () => Function): PropertyDecorator {
  return applyDecorators(
    IsArray({ message: (args: ValidationArguments) => (args.value === undefined ? `${MESSAGES.required} (a list)` : MESSAGES.list) }),
    // class-validator walks a list inside a list as if it were the outer list: refuse it here.
    ValidateBy({
      name: 'noNestedLists',
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || value.every((member) => !Array.isArray(member)),
        defaultMessage: (args?: ValidationArguments) =>
          `member ${(args?.value as unknown[]).findIndex((member) => Array.isArray(member))} is a list; every member ${MESSAGES.object}`,
      },
    }),
    ValidateNested({ each: true, message: MESSAGES.object }),
    Type(type),
  );
}
