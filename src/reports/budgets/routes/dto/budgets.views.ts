import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BUDGET_STATES, BudgetState } from './budgets.dto';

export class BudgetPeriodView {
  @ApiProperty({ example: '2025-01-01T00:00:00.000Z' })
  start: string;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  end: string;
}

export class BudgetPolicyView {
  @ApiProperty({ type: [Number], description: 'Percent of granted, ascending.', example: [80, 100, 120] })
  thresholds: number[];

  @ApiProperty({ example: '0.000000' })
  overdraft: string;
}

export class BudgetThresholdView {
  @ApiProperty({ example: 80 })
  percent: number;

  @ApiProperty({ type: String, nullable: true, description: 'When the current arming crossed; null while armed.' })
  crossed_at: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The crossing event (6.7).' })
  event_id: string | null;
}

export class BudgetSeriesDayView {
  @ApiProperty({ example: '2025-03-01' })
  day: string;

  @ApiProperty({ description: 'Net consumption of the day (today: with accrued_today).', example: '31.400000' })
  consumed: string;

  @ApiProperty({ example: '8123.500000' })
  consumed_to_date: string;
}

/** The budget object of reports.md 6.5. */
export class BudgetView {
  @ApiProperty({ example: 'p-123' })
  project_id: string;

  @ApiProperty({ enum: ['SU'] })
  unit: 'SU';

  @ApiProperty({ type: Number, nullable: true, description: "The allocation's current record id.", example: 42 })
  allocation_id: number | null;

  @ApiProperty({ type: BudgetPeriodView })
  period: BudgetPeriodView;

  @ApiProperty({ example: '10000.000000' })
  granted: string;

  @ApiProperty({ description: 'Ledger consumption plus accrued_today.', example: '8123.500000' })
  consumed: string;

  @ApiProperty({ example: '120.000000' })
  held: string;

  @ApiProperty({ example: '1756.500000' })
  available: string;

  @ApiProperty({ example: '14.250000' })
  accrued_today: string;

  @ApiProperty({ example: '0.000000' })
  outside_period: string;

  @ApiProperty({ type: String, nullable: true, description: 'consumed ÷ granted, 6 places; null when granted is 0.', example: '0.812350' })
  ratio: string | null;

  @ApiProperty({ enum: BUDGET_STATES })
  state: BudgetState;

  @ApiProperty({ type: BudgetPolicyView })
  policy: BudgetPolicyView;

  @ApiProperty({ type: [BudgetThresholdView] })
  thresholds: BudgetThresholdView[];

  @ApiProperty({ description: 'Net consumption of the last 14 complete local days ÷ 14.', example: '31.400000' })
  burn_rate_per_day: string;

  @ApiProperty({ type: String, nullable: true, example: '2025-12-04T00:00:00.000Z' })
  forecast_exhausted_at: string | null;

  @ApiProperty({ example: '2025-10-03T11:20:04.000Z' })
  as_of: string;

  @ApiProperty({ example: 2 })
  lag_seconds: number;

  @ApiPropertyOptional({ type: [BudgetSeriesDayView], description: 'With series=day only.' })
  series?: BudgetSeriesDayView[];
}

export class BudgetListView {
  @ApiProperty({ type: [BudgetView] })
  budgets: BudgetView[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}

/** A ledger entry (6.2). */
export class BudgetEntryView {
  @ApiProperty({ example: 'le_1234' })
  id: string;

  @ApiProperty({ example: 'grant' })
  kind: string;

  @ApiProperty({ description: 'Signed SU: negative lowers available.', example: '10000.000000' })
  amount: string;

  @ApiProperty({ example: '2025-01-01T00:00:00.000Z' })
  at: string;

  @ApiProperty({ example: '2025-01-01T00:00:03.120Z' })
  posted_at: string;

  @ApiProperty({ type: String, nullable: true, example: 'allocation:42' })
  ref: string | null;

  @ApiProperty({ example: 'system' })
  actor: string;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;
}

export class BudgetLedgerView {
  @ApiProperty({ type: [BudgetEntryView] })
  entries: BudgetEntryView[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}
