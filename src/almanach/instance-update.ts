import { DomainError } from '../http/domain-error';
import { Micros, parseAlmanachDate } from './almanach-dates';
import { filterImageMeta, ImageMeta } from './almanach-version';
import { AlmanachError, INVALID_DATE, INVALID_PAYLOAD } from './almanach.errors';

export interface InstanceUpdate {
  name?: string;
  flavor?: string;
  os?: ImageMeta;
  metadata?: Record<string, unknown>;
  startDate?: Micros;
  endDate?: Micros;
}

const OS_KEYS = ['distro', 'version', 'os_type'] as const;

/**
 * Validates the body of PUT /v1/entity/instance/{id} as strictly as the
 * reference did (almanach-v1.md 5.13): every problem is reported, keyed by
 * field, in the `{"error": {"<field>": "<message>"}}` form.
 */
export function parseInstanceUpdate(payload: unknown): InstanceUpdate {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new DomainError(AlmanachError.InvalidPayload, INVALID_PAYLOAD);
  }
  const body = payload as Record<string, unknown>;
  const fields: Record<string, string> = {};
  const update: InstanceUpdate = {};
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case 'name':
      case 'flavor':
        if (typeof value === 'string') update[key] = value;
        else fields[key] = 'expected str';
        break;
      case 'metadata':
        if (isObject(value)) update.metadata = value;
        else fields[key] = 'expected dict';
        break;
      case 'os': {
        if (!isObject(value)) {
          fields[key] = 'expected dict';
          break;
        }
        const missing = OS_KEYS.filter((k) => !(k in value));
        const extra = Object.keys(value).filter((k) => !(OS_KEYS as readonly string[]).includes(k));
        const wrong = OS_KEYS.filter((k) => k in value && typeof value[k] !== 'string');
        if (missing.length) fields[key] = `required key not provided: ${missing.join(', ')}`;
        else if (extra.length) fields[key] = `extra keys not allowed: ${extra.join(', ')}`;
        else if (wrong.length) fields[key] = `expected str for ${wrong.join(', ')}`;
        else update.os = filterImageMeta(value);
        break;
      }
      case 'start_date':
      case 'end_date': {
        const micros = parseAlmanachDate(value);
        if (micros === null) fields[key] = INVALID_DATE;
        else if (key === 'start_date') update.startDate = micros;
        else update.endDate = micros;
        break;
      }
      default:
        fields[key] = 'extra keys not allowed';
    }
  }
  if (Object.keys(fields).length > 0) {
    const [first] = Object.entries(fields);
    throw new DomainError(AlmanachError.InvalidUpdate, `${first[0]}: ${first[1]}`, { fields });
  }
  return update;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
