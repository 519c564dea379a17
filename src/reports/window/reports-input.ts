import { ValidationError } from 'class-validator';
import { CommonError, DomainError } from '../../http/domain-error';
import { ValidationPolicy, Where } from '../../http/validation.pipe';

/**
 * The reports mount's one validation policy (reports.md §1.1): `400
 * {"error": "<field>: <rule>", "fields": {…}}`, the first field at fault in
 * the order the DTO declares its parameters; an unknown query parameter is
 * `<name>: not a known parameter` (a typo must not silently answer an
 * ungrouped report), an unknown body field `<name>: not a known field`.
 */
export const ReportsInput = () => ValidationPolicy({ unknown: 'forbid', failure });

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
    fields[error.property] = messages[messages.length - 1] ?? 'is not valid';
  }
  const [name, rule] = Object.entries(fields)[0];
  return new DomainError(CommonError.Validation, `${name}: ${rule}`, { fields });
}

function isUnknown(error: ValidationError): boolean {
  return Boolean(error.constraints?.whitelistValidation);
}

/** A field error raised after the DTO (a rule that needs the database, or several fields at once). */
export function invalid(field: string, rule: string): DomainError {
  return new DomainError(CommonError.Validation, `${field}: ${rule}`, { fields: { [field]: rule } });
}
