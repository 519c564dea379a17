import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rating engine's SQL (reports.md §4.5), written once and read by the
 * rating of day cells, the re-rate jobs and the reports that rate fragments
 * at read time:
 *
 * - `report_round_half_even_div(n, d, s)`: n ÷ d rounded half-even to `s`
 *   fractional digits, exactly (the quotient is never formed as an inexact
 *   decimal: the remainder decides). PostgreSQL's `round(numeric)` rounds
 *   half away from zero, which §1.4 does not allow.
 * - `report_round_half_even(x, s)`: the same for a number already exact.
 * - `report_rated_cost(unit_price, quantity, price_unit)`: the cost of one
 *   rated cell, `round_half_even(unit_price × quantity ÷ divisor, 6)`,
 *   divisor 3600 for `hour` (quantities are seconds), 1 for `unit`.
 * - `report_price_item_at(list, day, meter, key, subkey)`: the item of a list
 *   that rates a cell of that local day (§4.5 decision: live items valid that
 *   day; exact key and subkey, then exact key and `*`, then `*` and exact
 *   subkey, then `*` and `*`). `key` is the catalogue name of a flavor.
 */
export class RatingEngine1763801600000 implements MigrationInterface {
  name = 'RatingEngine1763801600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "report_rated_month_cell" ADD "item_id" text`);
    await queryRunner.query(`
      CREATE FUNCTION report_round_half_even_div(n numeric, d numeric, s integer) RETURNS numeric
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT round((q + CASE WHEN 2 * abs(r) > abs(d) OR (2 * abs(r) = abs(d) AND mod(q, 2) <> 0) THEN sign(m) * sign(d) ELSE 0 END)
                     / power(10::numeric, s), s)
        FROM (SELECT m, q, m - q * d AS r FROM (SELECT m, div(m, d) AS q FROM (SELECT n * power(10::numeric, s) AS m) a) b) c
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION report_round_half_even(x numeric, s integer) RETURNS numeric
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT report_round_half_even_div(x, 1, s) $$`);
    await queryRunner.query(`
      CREATE FUNCTION report_rated_cost(unit_price numeric, quantity numeric, price_unit text) RETURNS numeric
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT report_round_half_even_div(unit_price * quantity, CASE price_unit WHEN 'hour' THEN 3600 ELSE 1 END, 6)
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION report_price_item_at(p_list text, p_day date, p_meter text, p_key text, p_subkey text) RETURNS SETOF report_price_item
      LANGUAGE sql STABLE AS $$
        SELECT i.* FROM report_price_item i
        WHERE i.price_list_id = p_list AND i.superseded_by IS NULL AND i.meter = p_meter
          AND i.key IN (p_key, '*') AND i.subkey IN (p_subkey, '*')
          AND i.valid_from_day <= p_day AND (i.valid_to_day IS NULL OR p_day < i.valid_to_day)
        ORDER BY i.key = '*', i.subkey = '*'
        LIMIT 1
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION report_price_item_at(text, date, text, text, text)`);
    await queryRunner.query(`DROP FUNCTION report_rated_cost(numeric, numeric, text)`);
    await queryRunner.query(`DROP FUNCTION report_round_half_even(numeric, integer)`);
    await queryRunner.query(`DROP FUNCTION report_round_half_even_div(numeric, numeric, integer)`);
    await queryRunner.query(`ALTER TABLE "report_rated_month_cell" DROP COLUMN "item_id"`);
  }
}
