import { Exact } from '../decimal';

/** The unit of each meter (§2.1). */
export const UNITS: Record<string, string> = {
  'instance.time': 's',
  'instance.vcpu': 'vcpu·s',
  'instance.ram': 'MB·s',
  'instance.disk': 'GB·s',
  'volume.size': 'GB·s',
  'amie.charge': 'charge',
  'amie.node_time': 'node·s',
  'amie.core_time': 'core·s',
};

/** Meters whose unit is in seconds: they have `quantity_hours`, and their sums are written with six digits; the others (charges) with the scale `numeric` gives. */
export const SECOND_METERS = Object.keys(UNITS).filter((meter) => UNITS[meter].endsWith('s'));

/** `quantity_hours` (§1.4): six digits, half-even, from the exact quantity; only for units in seconds. */
export function quantityHours(meter: string, quantity: string): string | null {
  return SECOND_METERS.includes(meter) ? new Exact(quantity).div(3600).toDecimalPlaces(6, Exact.ROUND_HALF_EVEN).toFixed(6) : null;
}

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** `UNITS[meter]` in SQL over a text column `meter` (null for a meter not listed). */
export function unitSql(meter: string): string {
  return `CASE ${meter} ${Object.entries(UNITS)
    .map(([m, unit]) => `WHEN ${literal(m)} THEN ${literal(unit)}`)
    .join(' ')} END`;
}

/**
 * `quantityHours` in SQL over a text column `meter` and a numeric column
 * `quantity`, as text: the same digits, since `report_round_half_even_div`
 * rounds the exact quotient half-even (never an inexact decimal) and answers
 * scale 6 (`0.000000`, never `-0.000000`, as decimal.js's `toFixed`).
 */
export function quantityHoursSql(meter: string, quantity: string): string {
  return `CASE WHEN ${meter} IN (${SECOND_METERS.map(literal).join(', ')}) THEN report_round_half_even_div(${quantity}, 3600, 6)::text END`;
}
