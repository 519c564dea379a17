import Ajv, { ValidateFunction } from 'ajv';
import { DomainError } from '../http/domain-error';
import { DATE_TIME_PATTERN, isoOfAmieDateTime, parseAmieDateTime } from './usage-dates';
import { UsageError } from './usage.errors';

/**
 * Validation of AMIE usage messages (amie-usage.md 4.2-4.8, error texts 5.5).
 *
 * One table per record type (FIELDS) is the single source of truth. From it
 * come (1) a JSON schema per type (the OpenAPI document's), of which ajv
 * compiles a lighter form once, types and structure only: the fast path, a
 * record it accepts then takes acceptRecord's checks (each value read once);
 * and (2) the per-field rule checks that write the fixed `<Field>: <rule>`
 * texts, run on every field of a record the fast path refused. Neither
 * schema is stricter than the checks.
 */
export const USAGE_TYPES = ['Compute', 'Storage', 'Adjustment'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

export const ADJUSTMENT_TYPES = ['credit', 'refund', 'storage-credit', 'debit', 'reservation', 'storage-debit'];

type FieldKind = 'id' | 'reference' | 'comment' | 'charge' | 'datetime' | 'parent' | 'adjustmentType' | 'attributes';
type AttributeKind = 'int1' | 'int0' | 'num0' | 'numPositive' | 'string';

interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
}

const f = (name: string, kind: FieldKind, required = true): FieldSpec => ({ name, kind, required });

/** Field tables in the order of amie-usage.md 4.3-4.5 (errors are joined in this order). */
export const FIELDS: Record<UsageType, FieldSpec[]> = {
  Compute: [
    f('Username', 'id'),
    f('LocalProjectID', 'id'),
    f('LocalRecordID', 'id'),
    f('Resource', 'id'),
    f('SubmitTime', 'datetime'),
    f('StartTime', 'datetime'),
    f('EndTime', 'datetime'),
    f('Charge', 'charge'),
    f('Attributes', 'attributes'),
    f('ParentRecordID', 'parent', false),
    f('LocalReference', 'reference', false),
  ],
  Storage: [
    f('Username', 'id'),
    f('LocalProjectID', 'id'),
    f('LocalRecordID', 'id'),
    f('Resource', 'id'),
    f('CollectionTime', 'datetime'),
    f('Charge', 'charge'),
    f('Attributes', 'attributes'),
    f('LocalReference', 'reference', false),
  ],
  Adjustment: [
    f('AdjustmentType', 'adjustmentType'),
    f('Charge', 'charge'),
    f('StartTime', 'datetime'),
    f('LocalProjectID', 'id'),
    f('LocalRecordID', 'id'),
    f('Resource', 'id'),
    f('Username', 'id'),
    f('Comment', 'comment', false),
    f('LocalReference', 'reference', false),
  ],
};

/** Attribute tables (4.3, 4.4); Adjustment has none. */
export const ATTRIBUTES: Record<'Compute' | 'Storage', { name: string; kind: AttributeKind; required: boolean }[]> = {
  Compute: [
    { name: 'NodeCount', kind: 'int1', required: true },
    { name: 'CpuCoreCount', kind: 'int1', required: false },
    { name: 'JobName', kind: 'string', required: false },
    { name: 'Memory', kind: 'num0', required: false },
    { name: 'Queue', kind: 'string', required: false },
  ],
  Storage: [
    ...['BytesRead', 'BytesStored', 'BytesWritten'].map((name) => ({ name, kind: 'int0' as const, required: false })),
    { name: 'CollectionInterval', kind: 'numPositive', required: false },
    ...['FileCount', 'FilesRead', 'FilesWritten'].map((name) => ({ name, kind: 'int0' as const, required: false })),
    { name: 'MediaType', kind: 'string', required: false },
    ...['SystemCopies', 'UserCopies'].map((name) => ({ name, kind: 'int0' as const, required: false })),
  ],
};

// ---------------------------------------------------------------------------
// Rule texts (5.5): fixed per rule, never containing the record's values.

export const RULE = {
  required: 'required',
  idType: 'must be a string or integer',
  empty: 'must not be empty',
  tooLong255: 'must be at most 255 characters',
  tooLong1024: 'must be at most 1024 characters',
  string: 'must be a string',
  number: 'must be a number',
  negative: 'must not be negative',
  chargeDigits: 'must have at most 15 digits before the decimal point',
  dateTime: 'not a valid date-time',
  future: 'in the future',
  startBeforeSubmit: 'before SubmitTime',
  endBeforeStart: 'before StartTime',
  parent: 'must be a string, an integer, null or an array of exactly one of these',
  adjustmentType: `must be one of ${ADJUSTMENT_TYPES.join(', ')}`,
  object: 'must be an object',
  int1: 'must be an integer of at least 1',
  int0: 'must be a non-negative integer',
  num0: 'must be a non-negative number',
  numPositive: 'must be a positive number',
  duplicate: 'duplicate in this message',
  nul: 'must not contain NUL characters',
  surrogate: 'must not contain unpaired surrogates',
} as const;

// ---------------------------------------------------------------------------
// Compiled schemas.

const DECIMAL = '^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*$';
const INTEGER_TEXT = '^\\s*\\+?\\d+\\s*$';

/*
 * The schemas are written in the subset that JSON Schema (ajv), OpenAPI 3.0
 * and OpenAPI 3.1 read alike: one `type` per schema, alternatives as
 * `anyOf`, `nullable` (ajv knows it) instead of a "null" type, no numeric
 * `exclusiveMinimum`. So the very objects written here are the request
 * schema of POST /amie/usage in the OpenAPI document (USAGE_MESSAGE_SCHEMA);
 * ajv compiles a lighter form of them (typesOnly below).
 */
const INTEGER_BRANCH = (minimum: number) => ({ type: 'integer', minimum });

function fieldSchema(spec: FieldSpec): object {
  switch (spec.kind) {
    case 'id':
      // The bounds keep an integer's decimal text within 255 characters too.
      return {
        description: 'a non-blank string of at most 255 characters, or an integer (stored as its decimal text)',
        anyOf: [
          { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' },
          { type: 'integer', maximum: 1e255, minimum: -1e254 },
        ],
      };
    case 'reference':
      return { type: 'string', nullable: true, maxLength: 255 };
    case 'comment':
      return { type: 'string', nullable: true, maxLength: 1024 };
    case 'charge':
      return {
        description: 'a decimal, at least 0, at most 15 digits before the point; kept exact',
        anyOf: [
          { type: 'string', pattern: DECIMAL },
          { type: 'number', minimum: 0 },
        ],
      };
    case 'datetime':
      return { type: 'string', pattern: DATE_TIME_PATTERN, description: 'ISO 8601 / RFC 3339; no offset is UTC; a bare date is midnight', example: '2024-05-01T10:05:00Z' };
    case 'parent': {
      const scalar = [{ type: 'string', nullable: true }, { type: 'integer' }];
      return {
        description: 'a string, an integer, null, or an array of exactly one of these (the client sends [null])',
        anyOf: [...scalar, { type: 'array', minItems: 1, maxItems: 1, items: { anyOf: scalar } }],
      };
    }
    case 'adjustmentType':
      return { type: 'string', description: `one of ${ADJUSTMENT_TYPES.join(', ')}, any case` };
    case 'attributes':
      return { type: 'object' };
  }
}

function attributeSchema(kind: AttributeKind, required: boolean): object {
  // An optional attribute may be null (it counts as absent).
  const text = (pattern?: string) => ({ type: 'string', ...(pattern ? { pattern } : {}), ...(required ? {} : { nullable: true }) });
  switch (kind) {
    case 'int1':
      return { anyOf: [INTEGER_BRANCH(1), text(INTEGER_TEXT)] };
    case 'int0':
      return { anyOf: [INTEGER_BRANCH(0), text(INTEGER_TEXT)] };
    case 'num0':
      return { anyOf: [{ type: 'number', minimum: 0 }, text(DECIMAL)] };
    case 'numPositive':
      // "Greater than 0" is checked by checkAttribute, which runs on Attributes even on the fast path.
      return { description: 'greater than 0', anyOf: [{ type: 'number', minimum: 0 }, text(DECIMAL)] };
    case 'string':
      return text();
  }
}

function recordSchema(type: UsageType): object {
  const properties: Record<string, object> = {};
  for (const spec of FIELDS[type]) properties[spec.name] = fieldSchema(spec);
  if (type !== 'Adjustment') {
    const attrs: Record<string, object> = {};
    for (const a of ATTRIBUTES[type]) attrs[a.name] = attributeSchema(a.kind, a.required);
    const required = ATTRIBUTES[type].filter((a) => a.required).map((a) => a.name);
    // OpenAPI 3.0 refuses an empty `required`.
    properties.Attributes = { type: 'object', properties: attrs, ...(required.length ? { required } : {}) };
  }
  return {
    title: `${type} record`,
    description: 'Unknown fields are kept and echoed. No string (value or key, at any depth) may hold a NUL character or an unpaired surrogate.',
    type: 'object',
    properties,
    required: FIELDS[type].filter((s) => s.required).map((s) => s.name),
  };
}

const RECORD_SCHEMAS: Record<UsageType, object> = {
  Compute: recordSchema('Compute'),
  Storage: recordSchema('Storage'),
  Adjustment: recordSchema('Adjustment'),
};

/**
 * The UsageMessage of amie-usage.md 4.2, with the record schemas written
 * above: the request schema of POST /amie/usage in the OpenAPI document. A
 * record the schema refuses is a per-record failure in a 200 answer, not a
 * 400; the envelope rules are checked by validateMessage.
 */
export const USAGE_MESSAGE_SCHEMA = {
  type: 'object',
  required: ['UsageType', 'Records'],
  properties: {
    UsageType: { type: 'string', description: 'Compute, Storage or Adjustment (any case); every record is of this type', example: 'Compute' },
    Records: {
      type: 'array',
      minItems: 1,
      description: 'records of UsageType; a record carrying its own UsageType must name the same type',
      items: { anyOf: USAGE_TYPES.map((t) => RECORD_SCHEMAS[t]) },
    },
  },
  example: {
    UsageType: 'Compute',
    Records: [
      {
        Username: 'jdoe',
        LocalProjectID: 'TG-ABC123',
        LocalRecordID: '881234',
        Resource: 'cluster-a',
        SubmitTime: '2024-05-01T10:00:00Z',
        StartTime: '2024-05-01T10:05:00Z',
        EndTime: '2024-05-01T11:05:00Z',
        Charge: '64',
        Attributes: { NodeCount: 2, CpuCoreCount: 64, JobName: 'relax', Queue: 'normal' },
        ParentRecordID: [null],
        LocalReference: 'acct-77',
      },
    ],
  },
};

const ajv = new Ajv({ allErrors: false, strict: false });

/** Keywords of a value's form or range: the fast path (acceptRecord) checks every such rule itself, on every record. */
const VALUE_KEYWORDS = new Set(['pattern', 'minLength', 'maxLength', 'minimum', 'maximum']);

/**
 * The form of a record schema ajv compiles: types and structure only, so
 * that nothing is tested twice (issue 14). Value keywords go (a date-time is
 * any string: parseAmieDateTime reads the grammar of DATE_TIME_PATTERN; an
 * identifier, reference or comment has no length or blank rule: idText and
 * longerThan check them, in UTF-16 units as the rules count, where ajv
 * counts code points; a charge is any string or number: toDecimal and its
 * sign), and Attributes is any object (checkAttribute runs on each
 * attribute). A value the fast path refuses sends the record to the full
 * checks; the property test holds the fast path to them.
 */
function typesOnly(schema: unknown, key?: string): unknown {
  if (key === 'Attributes') return { type: 'object' };
  if (Array.isArray(schema)) return schema.map((s) => typesOnly(s));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as object).map(([name, s]) => [name, typesOnly(s, name)]));
    else if (!VALUE_KEYWORDS.has(k)) out[k] = typesOnly(v);
  }
  return out;
}

const COMPILED: Record<UsageType, ValidateFunction> = {
  Compute: ajv.compile(typesOnly(RECORD_SCHEMAS.Compute) as object),
  Storage: ajv.compile(typesOnly(RECORD_SCHEMAS.Storage) as object),
  Adjustment: ajv.compile(typesOnly(RECORD_SCHEMAS.Adjustment) as object),
};

// ---------------------------------------------------------------------------
// Text PostgreSQL cannot store: a NUL character (U+0000) in a text or jsonb
// value, and an unpaired UTF-16 surrogate in jsonb, are refused by the
// database ("invalid byte sequence", "unsupported Unicode escape sequence").
// A record holding one anywhere (a value or a key, at any depth, unknown
// fields included) fails with `<Field>: <rule>`; the global NUL guard of
// src/http leaves AMIE submission bodies to this module.

type TextProblem = typeof RULE.nul | typeof RULE.surrogate;

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Any NUL or surrogate: the one test most strings need (paired surrogates are then told apart). */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

function textProblem(text: string): TextProblem | null {
  if (!SUSPECT.test(text)) return null;
  if (text.includes('\u0000')) return RULE.nul;
  return UNPAIRED_SURROGATE.test(text) ? RULE.surrogate : null;
}

/**
 * The quick look every record gets (a 5,000-record batch must stay cheap):
 * whether any string or key may hold a NUL or a surrogate. Recursive for
 * speed on the usual flat records, iterative below a few levels.
 */
function maySuspect(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return SUSPECT.test(value);
  if (typeof value !== 'object' || value === null) return false;
  if (depth > 16) return jsonTextProblem(value) !== null;
  if (Array.isArray(value)) {
    for (const item of value) if (maySuspect(item, depth + 1)) return true;
    return false;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) if (SUSPECT.test(key) || maySuspect(object[key], depth + 1)) return true;
  return false;
}

/** The problem of any string in a JSON value, keys included (NUL first); iterative, so depth costs no stack. */
export function jsonTextProblem(value: unknown): TextProblem | null {
  let found: TextProblem | null = null;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p === RULE.nul) return p;
      found = found ?? p;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, item] of Object.entries(v)) {
        const p = textProblem(key);
        if (p === RULE.nul) return p;
        found = found ?? p;
        stack.push(item);
      }
    }
  }
  return found;
}

/** A name or text PostgreSQL can store: NUL and unpaired surrogates become U+FFFD. */
export function storableText(text: string): string {
  return text.replace(/\u0000/g, '\uFFFD').replace(new RegExp(UNPAIRED_SURROGATE.source, 'g'), '\uFFFD');
}

/** A copy of a JSON value with every string and key storable (only called for values that need it). */
function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storableJson(item)]));
  }
  return value;
}

/**
 * The text problems of a record, per top-level field and, for Compute and
 * Storage, per attribute; null in the usual case of none. Names are storable
 * (a key holding a NUL is named with U+FFFD in its place).
 */
interface RecordTextProblems {
  fields: Map<string, string>;
  attributes: Map<string, string>;
}

function recordTextProblems(type: UsageType, record: Record<string, unknown>): RecordTextProblems | null {
  if (!maySuspect(record)) return null;
  let problems: RecordTextProblems | null = null;
  const add = (kind: 'fields' | 'attributes', name: string, problem: TextProblem) => {
    problems ??= { fields: new Map(), attributes: new Map() };
    const shown = storableText(name);
    problems[kind].set(shown, `${kind === 'attributes' ? 'Attributes.' : ''}${shown}: ${problem}`);
  };
  for (const [key, value] of Object.entries(record)) {
    if (key === 'Attributes' && type !== 'Adjustment' && isObject(value)) {
      for (const [attr, v] of Object.entries(value)) {
        const p = worst(textProblem(attr), jsonTextProblem(v));
        if (p) add('attributes', attr, p);
      }
      continue;
    }
    const p = worst(textProblem(key), jsonTextProblem(value));
    if (p) add('fields', key, p);
  }
  return problems;
}

const worst = (a: TextProblem | null, b: TextProblem | null): TextProblem | null => (a === RULE.nul || b === RULE.nul ? RULE.nul : (a ?? b));

// ---------------------------------------------------------------------------
// Per-field checks (also the normalisation of valid values).

const DECIMAL_RE = new RegExp(DECIMAL);
const CANONICAL_DECIMAL_RE = /^(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;
const INTEGER_TEXT_RE = new RegExp(INTEGER_TEXT);

/**
 * Exact decimal text of a JSON number or numeric string: sign, digits before
 * the point; null when it is not a decimal. Never goes through a float for
 * strings; a JSON number is written with JavaScript's shortest round-trip form.
 */
export function toDecimal(value: unknown): { negative: boolean; integerDigits: number; text: string } | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    text = String(value);
  } else if (typeof value === 'string') {
    text = value;
  } else return null;
  if (CANONICAL_DECIMAL_RE.test(text)) {
    // Already in the normal form (the usual charge): no sign, no exponent, no leading or trailing zeros.
    const point = text.indexOf('.');
    const integerDigits = point < 0 ? text.length : point;
    return { negative: false, integerDigits: text.charCodeAt(0) === 0x30 ? 0 : integerDigits, text };
  }
  if (!DECIMAL_RE.test(text)) return null;
  const m = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m) return null;
  const whole = m[2] ?? '';
  const fraction = m[3] ?? '';
  const exponent = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exponent) > 1000) {
    // Far outside anything a charge can be: refuse rather than build huge strings.
    return /[1-9]/.test(whole + fraction) ? { negative: m[1] === '-', integerDigits: exponent > 0 ? 1001 : 0, text: '0' } : { negative: false, integerDigits: 1, text: '0' };
  }
  const digits = whole + fraction;
  const point = whole.length + exponent;
  let integer: string;
  let decimals: string;
  if (point <= 0) {
    integer = '0';
    decimals = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    integer = digits + '0'.repeat(point - digits.length);
    decimals = '';
  } else {
    integer = digits.slice(0, point);
    decimals = digits.slice(point);
  }
  integer = integer.replace(/^0+(?=\d)/, '') || '0';
  decimals = decimals.replace(/0+$/, '');
  const zero = integer === '0' && decimals === '';
  const negative = m[1] === '-' && !zero;
  return {
    negative,
    integerDigits: integer === '0' ? 0 : integer.length,
    text: (negative ? '-' : '') + integer + (decimals ? `.${decimals}` : ''),
  };
}

function checkId(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return RULE.idType;
    return BigInt(value).toString().length > 255 ? RULE.tooLong255 : null;
  }
  if (typeof value !== 'string') return RULE.idType;
  const text = textProblem(value);
  if (text) return text;
  if (value.trim() === '') return RULE.empty;
  return value.length > 255 ? RULE.tooLong255 : null;
}

export function idText(value: unknown): string | null {
  if (checkId(value) !== null) return null;
  return typeof value === 'number' ? BigInt(value).toString() : (value as string);
}

function checkCharge(value: unknown): string | null {
  const decimal = toDecimal(value);
  if (!decimal) return RULE.number;
  if (decimal.negative) return RULE.negative;
  return decimal.integerDigits > 15 ? RULE.chargeDigits : null;
}

function checkDateTime(value: unknown): string | null {
  return typeof value === 'string' && parseAmieDateTime(value) !== null ? null : RULE.dateTime;
}

function checkParent(value: unknown): string | null {
  const scalar = (v: unknown) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  if (Array.isArray(value)) return value.length === 1 && scalar(value[0]) ? null : RULE.parent;
  return scalar(value) ? null : RULE.parent;
}

function checkAttribute(kind: AttributeKind, value: unknown): string | null {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? null : RULE.string;
    case 'int0':
    case 'int1': {
      const min = kind === 'int1' ? 1 : 0;
      const ok =
        (typeof value === 'number' && Number.isInteger(value) && value >= min) ||
        (typeof value === 'string' && INTEGER_TEXT_RE.test(value) && BigInt(value.trim().replace(/^\+/, '')) >= BigInt(min));
      return ok ? null : kind === 'int1' ? RULE.int1 : RULE.int0;
    }
    case 'num0':
    case 'numPositive': {
      if (typeof value === 'boolean') return kind === 'num0' ? RULE.num0 : RULE.numPositive;
      const decimal = toDecimal(value);
      const ok = decimal !== null && !decimal.negative && (kind === 'num0' || decimal.text !== '0');
      return ok ? null : kind === 'num0' ? RULE.num0 : RULE.numPositive;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems of one field, as `<Field>: <rule>` texts (attributes give several). */
function checkField(type: UsageType, spec: FieldSpec, value: unknown, text: RecordTextProblems | null = null): string[] {
  const own = text?.fields.get(spec.name);
  if (own) return [own];
  if (value === undefined || value === null) {
    // Optional fields may be null (the client's ParentRecordID is [null] or null).
    return spec.required ? [`${spec.name}: ${RULE.required}`] : [];
  }
  let problem: string | null = null;
  switch (spec.kind) {
    case 'id':
      problem = checkId(value);
      break;
    case 'reference':
    case 'comment': {
      const max = spec.kind === 'reference' ? 255 : 1024;
      problem = typeof value !== 'string' ? RULE.string : value.length > max ? (max === 255 ? RULE.tooLong255 : RULE.tooLong1024) : null;
      break;
    }
    case 'charge':
      problem = checkCharge(value);
      break;
    case 'datetime':
      problem = checkDateTime(value);
      break;
    case 'parent':
      problem = checkParent(value);
      break;
    case 'adjustmentType':
      problem = typeof value === 'string' && ADJUSTMENT_TYPES.includes(value.toLowerCase()) ? null : RULE.adjustmentType;
      break;
    case 'attributes': {
      if (!isObject(value)) return [`Attributes: ${RULE.object}`];
      if (type === 'Adjustment') return [];
      const problems: string[] = [];
      for (const attr of ATTRIBUTES[type]) {
        const bad = text?.attributes.get(attr.name);
        if (bad) {
          problems.push(bad);
          continue;
        }
        const v = value[attr.name];
        if (v === undefined || v === null) {
          if (attr.required) problems.push(`Attributes.${attr.name}: ${RULE.required}`);
          continue;
        }
        const p = checkAttribute(attr.kind, v);
        if (p) problems.push(`Attributes.${attr.name}: ${p}`);
      }
      // Unknown attributes are ignored, unless they hold text that cannot be stored.
      if (text) for (const [name, bad] of text.attributes) if (!ATTRIBUTES[type].some((a) => a.name === name)) problems.push(bad);
      return problems;
    }
  }
  return problem ? [`${spec.name}: ${problem}`] : [];
}

// ---------------------------------------------------------------------------
// Records and messages.

/** A record that passed validation, in the shape stored in a batch (short keys keep the JSON small). */
export interface NormalizedRecord {
  /** index in the message (the receipt sequence is batch id * 2^20 + n) */
  n: number;
  /** Resource */
  r: string;
  /** LocalRecordID */
  i: string;
  /** LocalProjectID */
  p: string;
  /** Username */
  u: string;
  /** Charge, exact decimal text */
  c: string;
  /** AdjustmentType, lower-case */
  a: string | null;
  /** usage start (compute/adjustment StartTime, storage CollectionTime), ISO 8601 */
  s: string | null;
  /** usage end (compute EndTime, storage CollectionTime) */
  e: string | null;
  /** the record as received */
  d: Record<string, unknown>;
}

export type RecordOutcome =
  | { ok: true; record: NormalizedRecord }
  | { ok: false; error: string; echo: Record<string, unknown>; resource: string | null; localRecordId: string | null };

export interface ValidatedMessage {
  usageType: UsageType;
  outcomes: RecordOutcome[];
}

const FUTURE_SLACK_MS = 3_600_000;

export interface ValidateOptions {
  /** false: every record takes the full per-field checks (the reference a test compares the fast path with). */
  schema?: boolean;
  /**
   * The caller knows that no string of the body (value or key) holds a NUL
   * or an unpaired surrogate: its JSON text had no `\u` escape, the only way
   * such a character gets into a parsed body (the text came from UTF-8
   * decoding, which yields neither, and JSON refuses raw control characters).
   * The per-record text walk is then skipped.
   */
  textSafe?: boolean;
}

/**
 * Checks the envelope (400 for the whole message, 4.2) and each record at
 * once against every rule of its type (4.6). `schema: false` skips the
 * compiled fast path (a test checks that it changes no outcome).
 */
export function validateMessage(body: unknown, now = Date.now(), options: ValidateOptions = {}): ValidatedMessage {
  const invalid = (message: string) => new DomainError(UsageError.InvalidMessage, message);
  if (body === undefined) throw invalid('request body is required');
  if (!isObject(body)) throw invalid('request body must be a JSON object');
  // Nothing outside Records is stored, but the rule of the other mounts holds here too: such text is a 400.
  for (const [key, value] of Object.entries(body)) {
    const problem = key === 'Records' ? null : worst(textProblem(key), jsonTextProblem(value));
    if (problem) throw invalid(`${storableText(key)}: ${problem}`);
  }
  const rawType = body.UsageType;
  if (rawType === undefined || rawType === null) throw invalid('UsageType: required');
  const usageType = typeof rawType === 'string' ? USAGE_TYPES.find((t) => t.toLowerCase() === rawType.toLowerCase()) : undefined;
  if (!usageType) throw invalid(`UsageType: must be one of ${USAGE_TYPES.join(', ')}`);
  const records = body.Records;
  if (records === undefined || records === null) throw invalid('Records: required');
  if (!Array.isArray(records)) throw invalid('Records: must be an array');
  if (records.length === 0) throw invalid('Records: must not be empty');
  records.forEach((record, index) => {
    if (!isObject(record)) throw invalid(`Records[${index}]: must be a JSON object`);
    const own = record.UsageType;
    if (own !== undefined && !(typeof own === 'string' && own.toLowerCase() === usageType.toLowerCase())) {
      throw invalid(`Records[${index}].UsageType: differs from the message's UsageType ${usageType}`);
    }
  });

  // LocalRecordIDs seen per Resource (no key string built per record).
  const seen = new Map<string, Set<string>>();
  const outcomes = (records as Record<string, unknown>[]).map((record, index) => {
    const resource = idText(record.Resource);
    const localRecordId = idText(record.LocalRecordID);
    let duplicate = false;
    if (resource !== null && localRecordId !== null) {
      let ids = seen.get(resource);
      if (ids === undefined) seen.set(resource, (ids = new Set()));
      duplicate = ids.has(localRecordId);
      ids.add(localRecordId);
    }
    const text = options.textSafe ? null : recordTextProblems(usageType, record);
    if (text === null && options.schema !== false && !duplicate && resource !== null && localRecordId !== null && COMPILED[usageType](record)) {
      const accepted = acceptRecord(usageType, record, now, resource, localRecordId, index);
      if (accepted) return accepted;
    }
    return validateRecord(usageType, record, now, duplicate, resource, localRecordId, index, text);
  });
  return { usageType, outcomes };
}

/**
 * The fast path of a record the compiled schema accepted (so each field has
 * a type the rules allow, the parent is as they want, and no field is
 * missing): the checks of values (identifiers, dates, charge, attributes,
 * lengths, order, the future), each value read once, and the normalised
 * record; null when any check fails, and the full checks of validateRecord
 * then write the texts. A test checks that it changes no outcome.
 */
function acceptRecord(
  type: UsageType,
  record: Record<string, unknown>,
  now: number,
  resource: string,
  localRecordId: string,
  index: number,
): RecordOutcome | null {
  const charge = toDecimal(record.Charge);
  if (charge === null || charge.negative || charge.integerDigits > 15) return null;
  let start: number | null;
  let end: number | null;
  let adjustment: string | null = null;
  if (type === 'Compute') {
    const submit = parseAmieDateTime(record.SubmitTime as string);
    start = parseAmieDateTime(record.StartTime as string);
    end = parseAmieDateTime(record.EndTime as string);
    if (submit === null || start === null || end === null || start < submit || end < start || end > now + FUTURE_SLACK_MS) return null;
  } else if (type === 'Storage') {
    start = end = parseAmieDateTime(record.CollectionTime as string);
    if (end === null || end > now + FUTURE_SLACK_MS) return null;
  } else {
    start = parseAmieDateTime(record.StartTime as string);
    end = null;
    adjustment = (record.AdjustmentType as string).toLowerCase();
    if (start === null || !ADJUSTMENT_TYPES.includes(adjustment)) return null;
  }
  if (type !== 'Adjustment') {
    const attributes = record.Attributes as Record<string, unknown>;
    for (const attr of ATTRIBUTES[type]) {
      const v = attributes[attr.name];
      if (v === undefined || v === null) {
        if (attr.required) return null;
      } else if (checkAttribute(attr.kind, v) !== null) return null;
    }
  }
  // The schema counts characters where the rules count UTF-16 units: text it let through may still be too long.
  if (longerThan(record.LocalReference, 255) || (type === 'Adjustment' && longerThan(record.Comment, 1024))) return null;
  const project = idText(record.LocalProjectID);
  const user = idText(record.Username);
  if (project === null || user === null) return null;
  return {
    ok: true,
    record: {
      n: index,
      r: resource,
      i: localRecordId,
      p: project,
      u: user,
      c: charge.text,
      a: adjustment,
      s: start === null ? null : isoOfAmieDateTime(record[type === 'Storage' ? 'CollectionTime' : 'StartTime'] as string, start),
      e: end === null ? null : isoOfAmieDateTime(record[type === 'Storage' ? 'CollectionTime' : 'EndTime'] as string, end),
      d: record,
    },
  };
}

const longerThan = (value: unknown, max: number) => typeof value === 'string' && value.length > max;

/** Every rule of the record's type, field by field: the texts of a refused record (and the reference outcome of any record). */
function validateRecord(
  type: UsageType,
  record: Record<string, unknown>,
  now: number,
  duplicate: boolean,
  resource: string | null,
  localRecordId: string | null,
  index: number,
  text: RecordTextProblems | null,
): RecordOutcome {
  const problems: string[] = [];
  for (const spec of FIELDS[type]) {
    problems.push(...checkField(type, spec, record[spec.name], text));
    if (spec.name === 'LocalRecordID' && duplicate) problems.push(`LocalRecordID: ${RULE.duplicate}`);
  }
  // Unknown fields are kept and ignored, unless they hold text that cannot be stored.
  if (text) for (const [name, bad] of text.fields) if (!FIELDS[type].some((spec) => spec.name === name)) problems.push(bad);
  const time = (name: string) => (typeof record[name] === 'string' ? parseAmieDateTime(record[name] as string) : null);
  let start: number | null = null;
  let end: number | null = null;
  if (type === 'Compute') {
    const submit = time('SubmitTime');
    start = time('StartTime');
    end = time('EndTime');
    const order: [string, string][] = [];
    if (submit !== null && start !== null && start < submit) order.push(['StartTime', `StartTime: ${RULE.startBeforeSubmit}`]);
    if (start !== null && end !== null && end < start) order.push(['EndTime', `EndTime: ${RULE.endBeforeStart}`]);
    if (end !== null && end > now + FUTURE_SLACK_MS) order.push(['EndTime', `EndTime: ${RULE.future}`]);
    insertInFieldOrder(type, problems, order);
  } else if (type === 'Storage') {
    start = end = time('CollectionTime');
    if (end !== null && end > now + FUTURE_SLACK_MS) insertInFieldOrder(type, problems, [['CollectionTime', `CollectionTime: ${RULE.future}`]]);
  } else {
    start = time('StartTime');
  }

  if (problems.length > 0) {
    const echo = echoRecord(type, text === null ? record : (storableJson(record) as Record<string, unknown>));
    return { ok: false, error: problems.join('; '), echo, resource, localRecordId };
  }
  const adjustment = type === 'Adjustment' ? (record.AdjustmentType as string).toLowerCase() : null;
  return {
    ok: true,
    record: {
      n: index,
      r: resource as string,
      i: localRecordId as string,
      p: idText(record.LocalProjectID) as string,
      u: idText(record.Username) as string,
      c: toDecimal(record.Charge)!.text,
      a: adjustment,
      s: start === null ? null : new Date(start).toISOString(),
      e: end === null ? null : new Date(end).toISOString(),
      d: record,
    },
  };
}

/** Places cross-field problems after the other problems of the same field, keeping table order. */
function insertInFieldOrder(type: UsageType, problems: string[], extra: [string, string][]): void {
  if (extra.length === 0) return;
  const rank = (text: string) => {
    const field = text.slice(0, text.indexOf(':')).split('.')[0];
    const index = FIELDS[type].findIndex((s) => s.name === field);
    return index < 0 ? FIELDS[type].length : index;
  };
  const all = [...problems.map((p, i) => ({ p, r: rank(p), i })), ...extra.map(([field, p], j) => ({ p, r: rank(`${field}:`), i: problems.length + j }))];
  all.sort((a, b) => a.r - b.r || a.i - b.i);
  problems.splice(0, problems.length, ...all.map((x) => x.p));
}

/**
 * The failed-record entry of 4.9 without UsageType, Error and FailedRecordID:
 * the record as received, every field of its type's table present (null when
 * missing), Compute Attributes always an object, ParentRecordID unwrapped,
 * AdjustmentType lower-case.
 */
export function echoRecord(type: UsageType, record: Record<string, unknown>): Record<string, unknown> {
  const echo: Record<string, unknown> = { ...record };
  delete echo.UsageType;
  delete echo.Error;
  delete echo.FailedRecordID;
  for (const spec of FIELDS[type]) if (echo[spec.name] === undefined) echo[spec.name] = null;
  if (type === 'Compute' && !isObject(echo.Attributes)) echo.Attributes = {};
  if (Array.isArray(echo.ParentRecordID) && echo.ParentRecordID.length === 1) echo.ParentRecordID = echo.ParentRecordID[0] ?? null;
  if (typeof echo.AdjustmentType === 'string') echo.AdjustmentType = echo.AdjustmentType.toLowerCase();
  return echo;
}
