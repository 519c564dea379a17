import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, registerDecorator, ValidationArguments } from 'class-validator';
import { StatusRange } from '../usage.commands';
import { parseStatusBound } from '../usage-dates';

/** One value of a repeated parameter (the first); an empty value is the same as an absent one (amie-usage.md 6). */
const firstValue = ({ value }: { value: unknown }) => {
  const text = Array.isArray(value) ? value[0] : value;
  return text === '' || text === null ? undefined : text;
};

const parse = (value: unknown): bigint | null => (typeof value === 'string' ? parseStatusBound(value) : null);

/** A bound in the formats of amie-usage.md 6 (4.7, plus a `+` the query parser turned into a space). */
function IsStatusBound() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isStatusBound',
      target: target.constructor,
      propertyName,
      options: { message: 'not a valid date-time' },
      validator: { validate: (value: unknown) => parse(value) !== null },
    });
}

/** FromTime not later than ToTime; says nothing while either bound does not parse. */
function NotLaterThan(other: string) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'notLaterThan',
      target: target.constructor,
      propertyName,
      constraints: [other],
      options: { message: `later than ${other}` },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const from = parse(value);
          const to = parse((args.object as Record<string, unknown>)[other]);
          return from === null || to === null || from <= to;
        },
      },
    });
}

const BOUND_DOC =
  'ISO 8601: `2024-05-01T12:00:00`, a fraction, `Z` or an offset (`+00:00`, `+0000`), a space instead of `T`, or a bare date; no offset is UTC; empty is the same as absent';

/**
 * GET usage/status (amie-usage.md 6): the window `[FromTime, ToTime)` of
 * processing time. Errors read `FromTime: not a valid date-time`,
 * `ToTime: not a valid date-time`, `FromTime: later than ToTime`.
 */
export class UsageStatusQueryDto {
  @ApiPropertyOptional({ type: String, description: `inclusive lower bound; ${BOUND_DOC}`, example: '2024-05-01T00:00:00+00:00' })
  @Transform(firstValue)
  @IsOptional()
  @IsStatusBound()
  @NotLaterThan('ToTime')
  FromTime?: string;

  @ApiPropertyOptional({ type: String, description: `exclusive upper bound; ${BOUND_DOC}`, example: '2024-06-01' })
  @Transform(firstValue)
  @IsOptional()
  @IsStatusBound()
  ToTime?: string;

  /** The validated bounds, in microseconds (PostgreSQL's precision). */
  toRange(): StatusRange {
    return { from: this.FromTime === undefined ? null : parse(this.FromTime), to: this.ToTime === undefined ? null : parse(this.ToTime) };
  }
}
