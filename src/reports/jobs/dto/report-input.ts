import { ValidationError } from 'class-validator';
import { CommonError, DomainError } from '../../../http/domain-error';
import { ValidationPolicy, Where } from '../../../http/validation.pipe';

/*
 * The validation wording of the reports routes (reports.md 1.1): a failure is
 * `400 {"error": "<field>: <rule>", "fields": {"<field>": "<rule>", …}}`,
 * `error` naming the first field at fault in the order the DTO declares its
 * fields; unknown query parameters and unknown body fields are refused
 * (`grop_by: not a known parameter`). DTO messages are the bare rules
 * ("must be one of …"); this is the one place that puts the field in front.
 */

const UNKNOWN: Record<Where, string> = { query: 'not a known parameter', body: 'not a known field', param: 'not a known parameter' };

function rulesOf(errors: ValidationError[], where: Where, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const error of errors) {
    const path = !prefix ? error.property : /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`;
    if (error.constraints) {
      const constraints = error.constraints;
      const rule = constraints.whitelistValidation ? UNKNOWN[where] : [...new Set(Object.values(constraints))].join('; ');
      out.push([path, rule]);
    }
    if (error.children?.length) out.push(...rulesOf(error.children, where, path));
  }
  return out;
}

/** The 400 of a reports route from its field failures. */
export function reportValidationError(errors: ValidationError[], where: Where): DomainError {
  const rules = rulesOf(errors, where);
  // Known fields first, in declaration order; unknown ones after them.
  const ordered = [...rules.filter(([, rule]) => rule !== UNKNOWN[where]), ...rules.filter(([, rule]) => rule === UNKNOWN[where])];
  const fields = Object.fromEntries(ordered);
  const [field, rule] = ordered[0];
  return new DomainError(CommonError.Validation, `${field}: ${rule}`, { fields });
}

/** Base class of every reports DTO: the wording above, unknown fields refused. */
@ValidationPolicy({
  unknown: 'forbid',
  notAnObject: (where) =>
    new DomainError(CommonError.Validation, where === 'body' ? 'request body must be a JSON object' : `${where}: must be an object`),
  failure: reportValidationError,
})
export abstract class ReportInput {}

