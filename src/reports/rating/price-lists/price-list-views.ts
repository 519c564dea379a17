import { Principal } from '../../../auth/principal';
import { PriceItemView, PriceListView } from './dto/price-list.views';
import { PriceItemRow, PriceListRow } from './price-lists.repository';

/** The wire form of a list (also what its audit entries store); a `user` sees only its own projects in it (1.2). */
export function listView(row: PriceListRow, principal?: Principal): PriceListView {
  const projectIds = principal?.role === 'user' ? row.project_ids.filter((p) => principal.projectIds.includes(p)) : row.project_ids;
  return {
    id: row.id,
    name: row.name,
    currency: row.currency,
    project_ids: projectIds,
    description: row.description,
    created_at: row.created_at,
    created_by: row.created_by,
  };
}

/** The wire form of an item (also what its audit entries store). */
export function itemView(row: PriceItemRow): PriceItemView {
  return {
    id: row.id,
    meter: row.meter,
    key: row.key,
    subkey: row.subkey,
    unit_price: row.unit_price,
    price_unit: row.price_unit,
    valid_from: row.valid_from,
    valid_to: row.valid_to,
    state: row.state,
    superseded_by: row.superseded_by,
    created_at: row.created_at,
    created_by: row.created_by,
    reason: row.reason,
  };
}
