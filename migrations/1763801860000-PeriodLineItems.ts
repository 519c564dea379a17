import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which price item rated the frozen cells and adjustment lines of closed
 * periods, so that /reports/usage can answer `unit_price` and `price_unit`
 * for their rows as for live ones (reports.md 3.1: "the price when exactly
 * one price item rated the row"):
 *
 * - `report_closed_cell.item_id`: the item of the rated day cell the close
 *   froze (null for usage cells, price list '').
 * - `report_adjustment_line.item_id` and `prior_item_id` (cost lines): the
 *   item of the live rated cell the line brings the cell to, and the item of
 *   the figures it corrects (the frozen cell's, or the previous line's); null
 *   where no rated cell was on that side. A row is rated by one item when
 *   its cost lines name that item and no other.
 *
 * Rated cells frozen before this migration get the item of the rated day
 * cells (live or superseded) with the same key, list, quantity and cost when
 * those name exactly one; otherwise, and on both sides of earlier cost
 * lines, the item is unknown: '' (never an item id), so their rows keep
 * `unit_price` null, and so do the rows of later lines correcting them.
 */
export class PeriodLineItems1763801860000 implements MigrationInterface {
  name = 'PeriodLineItems1763801860000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "report_closed_cell" ADD "item_id" text`);
    await queryRunner.query(`ALTER TABLE "report_adjustment_line" ADD "item_id" text`);
    await queryRunner.query(`ALTER TABLE "report_adjustment_line" ADD "prior_item_id" text`);
    await queryRunner.query(`
      UPDATE report_closed_cell f SET item_id = (
        SELECT min(r.item_id) FROM report_rated_day_cell r
        WHERE r.project_id = f.project_id AND r.site = f.site AND r.day = f.day AND r.meter = f.meter AND r.key = f.key
          AND r.subkey = f.subkey AND r.price_list_id = f.price_list_id AND r.quantity = f.quantity AND r.cost = f.cost
        HAVING count(DISTINCT r.item_id) = 1)
      WHERE f.price_list_id <> ''`);
    await queryRunner.query(`UPDATE report_closed_cell SET item_id = '' WHERE price_list_id <> '' AND item_id IS NULL`);
    await queryRunner.query(`UPDATE report_adjustment_line SET item_id = '', prior_item_id = '' WHERE price_list_id <> ''`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "report_adjustment_line" DROP COLUMN "prior_item_id"`);
    await queryRunner.query(`ALTER TABLE "report_adjustment_line" DROP COLUMN "item_id"`);
    await queryRunner.query(`ALTER TABLE "report_closed_cell" DROP COLUMN "item_id"`);
  }
}
