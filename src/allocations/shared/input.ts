import { createParamDecorator, ExecutionContext, PipeTransform } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiProperty, ApiQuery, PartialType } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { invalidFields } from '../allocations.errors';
import { BodyReader } from './body-reader';

/*
 * Input at the edge of the allocation mount (allocations.md 2.1). Bodies come
 * form-encoded (every value a string, a list as a repeated key) or as JSON,
 * and unknown or server-managed keys are ignored rather than refused, which
 * the service-wide DtoValidationPipe (whitelist, forbidNonWhitelisted) cannot
 * express. So each body is one DTO class whose properties carry `@Field(...)`:
 * from that one declaration come the OpenAPI schema (`@ApiProperty`), the
 * TypeScript type the handler receives, and the reading rules BodyReader
 * applies in the `@AllocationBody(Dto)` pipe.
 *
 * The pipe collects field failures without throwing: allocations.md 5 fixes
 * the check order as visibility (404), role (403), state (409), then fields
 * (400), so the service throws them (`Parsed.check()`) once it has checked the
 * rest. Services receive a `Parsed<Dto>`, never the raw body.
 */

export type FieldSpec =
  | ({ kind: 'string' } & StringRule)
  | { kind: 'int'; required?: boolean; nullable?: boolean; min?: number; max?: number; oneOf?: readonly number[]; multipleOf?: number; ruleMessage?: string }
  | { kind: 'number'; required?: boolean; min?: number }
  | { kind: 'bool' }
  | { kind: 'date' }
  | { kind: 'list' }
  | { kind: 'stringList'; max?: number }
  | { kind: 'intList' };

export interface StringRule {
  required?: boolean;
  notBlank?: boolean;
  max?: number;
  min?: number;
  pattern?: RegExp;
  patternMessage?: string;
  nullable?: boolean;
  /** `""` means null (with `nullable`). */
  emptyIsNull?: boolean;
  /** JSON null is stored as `""` (text columns that are never null). */
  nullAsEmpty?: boolean;
  oneOf?: readonly string[];
}

type Spec = FieldSpec & { name: string };

/** An item of a `list` field: form values are strings, JSON ones any scalar. */
export type Scalar = string | number | boolean;

const FIELDS = Symbol('allocation-fields');

export interface FieldDoc {
  description?: string;
  example?: unknown;
}

/** Declares one body or query field: its reading rule and its OpenAPI schema. */
export function Field(spec: FieldSpec, doc: FieldDoc = {}): PropertyDecorator {
  return (target, key) => {
    const list: Spec[] = Reflect.getOwnMetadata(FIELDS, target.constructor) ?? [...(Reflect.getMetadata(FIELDS, target.constructor) ?? [])];
    list.push({ ...spec, name: String(key) });
    Reflect.defineMetadata(FIELDS, list, target.constructor);
    ApiProperty({ ...schemaOf(spec), required: 'required' in spec && spec.required === true, ...doc })(target, key);
  };
}

/** The reading rules of a DTO's fields, in declaration order. */
export function fieldsOf(dto: Function): Spec[] {
  return Reflect.getMetadata(FIELDS, dto) ?? [];
}

function schemaOf(spec: FieldSpec): Record<string, unknown> {
  const text = { type: String, description: 'form-encoded or JSON' };
  switch (spec.kind) {
    case 'string':
      return {
        ...text,
        nullable: spec.nullable,
        maxLength: spec.max,
        minLength: spec.min,
        pattern: spec.pattern?.source,
        enum: spec.oneOf ? [...spec.oneOf] : undefined,
        description: undefined,
      };
    case 'int':
      return { type: 'integer', nullable: spec.nullable, minimum: spec.min, maximum: spec.max, enum: spec.oneOf ? [...spec.oneOf] : undefined, multipleOf: spec.multipleOf };
    case 'number':
      return { type: 'number', minimum: spec.min };
    case 'bool':
      return { type: 'boolean', description: 'true/false, True/False or 1/0' };
    case 'date':
      return { type: String, format: 'date', nullable: true };
    case 'list':
    case 'stringList':
      return { type: [String], description: 'a list; form bodies repeat the key, a single value is a one-element list' };
    case 'intList':
      return { type: [Number], description: 'a list of ids; form bodies repeat the key' };
  }
}

/** A body read against its DTO: the valid values present, and the failures, thrown when the service reaches field validation. */
export class Parsed<T> {
  constructor(
    readonly values: Partial<T>,
    private readonly reader: BodyReader,
    /** A body that is not an object at all: thrown by the first check. */
    private readonly bodyError?: Error,
  ) {}

  /** Whether the key was sent at all. */
  has(key: string): boolean {
    return this.reader.has(key);
  }

  /** Whether the key was sent with a non-empty value (a user sending associated_site, allocations.md 4). */
  sentNonEmpty(key: string): boolean {
    const value = this.reader.raw(key);
    return !(value === undefined || value === null || value === '' || (Array.isArray(value) && value.every((v) => v === '')));
  }

  /** The failures so far, by field. */
  get errors(): Readonly<Record<string, string[]>> {
    return this.reader.errors;
  }

  /** Adds a failure found by the service (an unknown reference, a uniqueness clash, a rule across fields). */
  fail(key: string, message: string): undefined {
    return this.reader.fail(key, message);
  }

  /** Forgets the failures of fields the caller's role may not set (they are ignored, allocations.md 4). */
  ignore(keys: readonly string[]): void {
    for (const key of keys) {
      delete this.reader.errors[key];
      delete (this.values as Record<string, unknown>)[key];
    }
  }

  /** Throws the failures of these fields (all fields when none named) as one 400 in the mount's shape. */
  check(only?: readonly string[]): void {
    if (this.bodyError) throw this.bodyError;
    const errors = only ? Object.fromEntries(Object.entries(this.reader.errors).filter(([k]) => only.includes(k))) : this.reader.errors;
    if (Object.keys(errors).length > 0) throw invalidFields(errors);
  }
}

/** Reads a raw body against a DTO; `partial` (PATCH) makes no field required. */
export function parseBody<T>(dto: new () => T, body: unknown, options: { partial?: boolean } = {}): Parsed<T> {
  let reader: BodyReader;
  let bodyError: Error | undefined;
  try {
    reader = new BodyReader(body);
  } catch (error) {
    // Not an object: a 400 too, but in its turn of the check order.
    bodyError = error as Error;
    reader = new BodyReader(undefined);
  }
  const values: Record<string, unknown> = {};
  for (const spec of fieldsOf(dto)) {
    const required = !options.partial && 'required' in spec && spec.required === true;
    const value = readField(reader, { ...spec, required } as Spec);
    if (value !== undefined) values[spec.name] = value;
  }
  return new Parsed<T>(values as Partial<T>, reader, bodyError);
}

function readField(reader: BodyReader, spec: Spec): unknown {
  const key = spec.name;
  switch (spec.kind) {
    case 'string': {
      if (!reader.has(key)) return spec.required ? reader.fail(key, 'This field is required.') : undefined;
      const value = reader.string(key, spec);
      if (value === null && spec.nullAsEmpty) return '';
      if (typeof value === 'string' && spec.oneOf && !spec.oneOf.includes(value)) return reader.fail(key, `Must be one of ${spec.oneOf.join(', ')}.`);
      return value;
    }
    case 'int': {
      const value = reader.int(key, spec);
      if (typeof value !== 'number') return value;
      if (spec.oneOf && !spec.oneOf.includes(value)) return reader.fail(key, spec.ruleMessage ?? `Must be one of ${spec.oneOf.join(', ')}.`);
      if (spec.multipleOf && value % spec.multipleOf !== 0) return reader.fail(key, spec.ruleMessage ?? `Must be a multiple of ${spec.multipleOf}.`);
      return value;
    }
    case 'number':
      return reader.number(key, spec);
    case 'bool':
      return reader.bool(key);
    case 'date':
      return reader.date(key);
    case 'list':
      return reader.list(key);
    case 'stringList':
      return reader.stringList(key, spec);
    case 'intList':
      return reader.intList(key);
  }
}

class BodyPipe implements PipeTransform {
  constructor(
    private readonly dto: new () => unknown,
    private readonly partial: boolean,
  ) {}

  transform(body: unknown): Parsed<unknown> {
    return parseBody(this.dto, body, { partial: this.partial });
  }
}

const RawBody = createParamDecorator((_data: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<FastifyRequest>().body);

/**
 * The request body read against `dto` at the edge (form or JSON), documented
 * in the OpenAPI document as that DTO. `partial` for PATCH.
 */
export function AllocationBody(dto: new () => unknown, options: { partial?: boolean; required?: boolean } = {}): ParameterDecorator {
  return (target, key, index) => {
    RawBody(new BodyPipe(dto, options.partial ?? false))(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
    ApiConsumes('application/x-www-form-urlencoded', 'application/json')(target, key, descriptor);
    ApiBody({
      type: options.partial ? patchTypeOf(dto) : dto,
      required: options.required ?? !options.partial,
      description: 'application/x-www-form-urlencoded (repeated keys for lists, True/False for booleans) or application/json; unknown keys are ignored',
    })(target, key, descriptor);
  };
}

const PATCH_TYPES = new Map<Function, Function>();

/** The OpenAPI type of a PATCH body: the DTO with every field optional, named `<Name>Patch`. */
function patchTypeOf(dto: new () => unknown): Function {
  let type = PATCH_TYPES.get(dto);
  if (!type) {
    type = PartialType(dto as new () => object);
    Object.defineProperty(type, 'name', { value: `${dto.name.replace(/Dto$/, '')}PatchDto` });
    PATCH_TYPES.set(dto, type);
  }
  return type;
}

export interface QueryParamDoc {
  name: string;
  type?: 'string' | 'integer' | 'boolean';
  description?: string;
}

/** Documents the query parameters a list understands (unknown ones are ignored, allocations.md 6, 8). */
export function ApiQueryParams(params: readonly QueryParamDoc[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const p of params) ApiQuery({ name: p.name, required: false, type: p.type ?? 'string', description: p.description })(target, key, descriptor);
    return descriptor;
  };
}
