import { ValidationError } from 'class-validator';
import { CommonError, DomainError } from '../../http/domain-error';
import { ValidationPolicy, Where } from '../../http/validation.pipe';

/**
 * The reports mount's one validation policy (reports.md §1.1): `400
 * {"error": "<field>: <rule>", "fields": {…}}`, the first field at fault in
 * the order the DTO declares its parameters; an unknown query parameter is
 * `<name>: not a known parameter` (a typo must not silently answer an
 * ungrouped report), an unknown body field `<name>: not a known field`.
 * `optional`: a write whose every field is optional may come without a body.
 */
export const ReportsInput = (options: { optional?: boolean } = {}) => ValidationPolicy({ unknown: 'forbid', failure, ...options });

function failure(errors: ValidationError[], where: Where): DomainError {
  const fields: Record<string, string> = {};
  // Unknown parameters first: they usually explain the rest.
  const ordered = [...errors].sort((a, b) => Number(isUnknown(b)) - Number(isUnknown(a)));
  for (const error of ordered) {
    if (fields[error.property]) continue;
    if (isUnknown(error)) {
      fields[error.property] = where === 'query' ? 'not a known parameter' : 'not a known field';
      continue;
    }
    const messages = Object.values(error.constraints ?? {});
    if (messages.length === 0 && error.children?.length) {
      // A nested object or list of them (price items): each field at fault by its path, `items[0].unit_price`.
      nested(error.children, error.property, fields);
      continue;
    }
    fields[error.property] = messages[messages.length - 1] ?? 'is not valid';
  }
  const [name, rule] = Object.entries(fields)[0];
  return new DomainError(CommonError.Validation, `${name}: ${rule}`, { fields });
}

function nested(errors: ValidationError[], prefix: string, fields: Record<string, string>): void {
  for (const error of errors) {
    const path = /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`;
    if (fields[path]) continue;
    if (isUnknown(error)) fields[path] = 'not a known field';
    else {
      const messages = Object.values(error.constraints ?? {});
      if (messages.length > 0) fields[path] = messages[messages.length - 1];
    }
    if (error.children?.length) nested(error.children, path, fields);
  }
}

function isUnknown(error: ValidationError): boolean {
  return Boolean(error.constraints?.whitelistValidation);
}

/** A field error raised after the DTO (a rule that needs the database, or several fields at once). */
export function invalid(field: string, rule: string): DomainError {
  return new DomainError(CommonError.Validation, `${field}: ${rule}`, { fields: { [field]: rule } });
}
