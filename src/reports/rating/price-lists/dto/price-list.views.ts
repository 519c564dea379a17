import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JobView } from '../../../jobs/dto/jobs.views';
import { ITEM_STATES, ItemState } from '../price-rules';

/** One price item (reports.md 4.1). */
export class PriceItemView {
  @ApiProperty({ example: 'pi_8f2a9e8b7d6c5b4a39281706' })
  id: string;

  @ApiProperty({ example: 'instance.time' })
  meter: string;

  @ApiProperty({ example: 'm1.small' })
  key: string;

  @ApiProperty({ example: '' })
  subkey: string;

  @ApiProperty({ description: 'Decimal string as written.', example: '0.25' })
  unit_price: string;

  @ApiProperty({ enum: ['hour', 'unit'] })
  price_unit: string;

  @ApiProperty({ description: 'Start of a local day of REPORT_TIME_ZONE.', example: '2025-01-01T00:00:00.000Z' })
  valid_from: string;

  @ApiProperty({ type: String, nullable: true, description: 'null: open-ended.' })
  valid_to: string | null;

  @ApiProperty({ enum: ITEM_STATES, description: 'Derived from now: before valid_from, in force, after valid_to, replaced by a correction.' })
  state: ItemState;

  @ApiProperty({ type: String, nullable: true, description: 'The correction that superseded the item.' })
  superseded_by: string | null;

  @ApiProperty({ example: '2025-01-01T00:00:00.000Z' })
  created_at: string;

  @ApiProperty({ description: 'Token name.' })
  created_by: string;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;
}

/** One price list (reports.md 4.1). */
export class PriceListView {
  @ApiProperty({ example: 'pl_5f0c2a9e8b7d6c5b4a392817' })
  id: string;

  @ApiProperty({ example: 'Public cloud 2025' })
  name: string;

  @ApiProperty({ example: 'EUR' })
  currency: string;

  @ApiProperty({ type: [String], description: 'Empty: the default list of its currency. A `user` sees only its own projects here.' })
  project_ids: string[];

  @ApiProperty()
  description: string;

  @ApiProperty({ example: '2025-01-01T00:00:00.000Z' })
  created_at: string;

  @ApiProperty({ description: 'Token name.' })
  created_by: string;
}

/** `GET /reports/price-lists` (reports.md 4.2). */
export class PriceListListView {
  @ApiProperty({ type: [PriceListView], description: 'Ordered by name (bytes).' })
  price_lists: PriceListView[];
}

/** `GET /reports/price-lists/{id}`: the list and its items, by meter, key, subkey, valid_from. */
export class PriceListDetailView extends PriceListView {
  @ApiProperty({ type: [PriceItemView] })
  items: PriceItemView[];
}

/** `POST /admin/reports/price-lists`: the list, its items and the re-rate job their past days queued. */
export class CreatedPriceListView extends PriceListDetailView {
  @ApiProperty({ type: JobView, nullable: true, description: 'The rerate job for the days before today the items cover; null when they cover none.' })
  rerate_job: JobView | null;
}

/** `POST /admin/reports/price-lists/{id}/items`. */
export class CreatedItemsView {
  @ApiProperty({ type: [PriceItemView] })
  items: PriceItemView[];

  @ApiProperty({ type: JobView, nullable: true, description: 'The rerate job for the days before today the items cover; null when they cover none.' })
  rerate_job: JobView | null;
}

/** `PATCH /admin/reports/price-lists/{id}/items/{item_id}`: the item, and the re-rate job when the change priced days before today. */
export class PatchedItemView extends PriceItemView {
  @ApiProperty({ type: JobView, nullable: true })
  rerate_job: JobView | null;
}

/** A correction (reports.md 4.3). */
export class CorrectionView {
  @ApiProperty({ example: 'corr_0c2a9e8b7d6c5b4a39281706' })
  id: string;

  @ApiProperty()
  reason: string;

  @ApiProperty({ type: [String], description: 'Ids of the items it superseded.' })
  superseded: string[];

  @ApiProperty({ type: [PriceItemView], description: 'The items it inserted.' })
  items: PriceItemView[];

  @ApiProperty()
  created_at: string;

  @ApiProperty()
  created_by: string;
}

/** `POST /admin/reports/price-lists/{id}/corrections`: 202. */
export class CorrectionAnswerView {
  @ApiProperty({ type: CorrectionView })
  correction: CorrectionView;

  @ApiProperty({ type: JobView, nullable: true, description: 'The correction job for the days before today where the price may differ; null when there are none. Location names it.' })
  job: JobView | null;
}

/** One audit entry (reports.md 4.4). */
export class AuditEntryView {
  @ApiProperty({ example: 'au_0c2a9e8b7d6c5b4a39281706' })
  id: string;

  @ApiProperty()
  at: string;

  @ApiProperty({ description: 'Token name.' })
  actor: string;

  @ApiProperty({ enum: ['create', 'update', 'end', 'delete', 'supersede', 'correct'] })
  action: string;

  @ApiProperty({ enum: ['price_list', 'price_item'] })
  object: string;

  @ApiProperty()
  object_id: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  before: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  after: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;
}

/** `GET /reports/price-lists/{id}/audit`: oldest first, paged (1.6). */
export class AuditListView {
  @ApiProperty({ type: [AuditEntryView] })
  entries: AuditEntryView[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}
