import { UNITS } from '../../usage/units';

/**
 * The rules of a price item that depend on its meter (reports.md 2.1, 4.1),
 * shared by the create DTOs and the PATCH of an item (where the meter may
 * come from the stored item).
 */
export const ITEM_STATES = ['scheduled', 'effective', 'ended', 'superseded'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/** Items per call (a list's items, `{"items": [...]}`, a correction's items and ids). */
export const MAX_ITEMS = 1000;

/** AMIE record types (2.1): the subkeys of the AMIE meters. */
export const RECORD_TYPES = [
  'compute',
  'storage',
  'adjustment:credit',
  'adjustment:refund',
  'adjustment:storage-credit',
  'adjustment:debit',
  'adjustment:reservation',
  'adjustment:storage-debit',
] as const;

const isAmie = (meter: string) => meter.startsWith('amie.');

/** `hour` for meters whose unit ends in s (quantities in seconds, divisor 3600), `unit` for amie.charge (4.1, 4.5). */
export function priceUnitFor(meter: string): 'hour' | 'unit' {
  return UNITS[meter]?.endsWith('s') ? 'hour' : 'unit';
}

export function priceUnitRule(meter: string, priceUnit: string): string | null {
  const expected = priceUnitFor(meter);
  return priceUnit === expected ? null : `must be ${expected} for ${meter} (unit ${UNITS[meter]})`;
}

export function subkeyRule(meter: string, subkey: string): string | null {
  if (isAmie(meter)) return subkey === '*' || (RECORD_TYPES as readonly string[]).includes(subkey) ? null : `must be a record type (${RECORD_TYPES.join(', ')}) or * for ${meter}`;
  return subkey === '' ? null : `must be "" for ${meter}`;
}
