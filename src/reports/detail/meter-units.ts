import { Exact } from '../decimal';
import { Meter } from '../usage/dto/usage-filters.dto';

/** The unit of each meter (reports.md §2.1). */
export const METER_UNIT: Record<Meter, string> = {
  'instance.time': 's',
  'instance.vcpu': 'vcpu·s',
  'instance.ram': 'MB·s',
  'instance.disk': 'GB·s',
  'volume.size': 'GB·s',
  'amie.charge': 'charge',
  'amie.node_time': 'node·s',
  'amie.core_time': 'core·s',
};

export function unitOf(meter: string): string {
  const unit = METER_UNIT[meter as Meter];
  if (unit === undefined) throw new Error(`no unit for meter ${meter}`);
  return unit;
}

/**
 * `quantity_hours` (§1.4): for a unit ending in `s`, the exact quantity
 * divided by 3600, rounded half-even to 6 fractional digits (display only,
 * never summed); otherwise null.
 */
export function quantityHours(unit: string, quantity: string): string | null {
  if (!unit.endsWith('s')) return null;
  return new Exact(quantity).div(3600).toFixed(6, Exact.ROUND_HALF_EVEN);
}
