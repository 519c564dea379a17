import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Site-day sums of charges written with the scale of the largest-scale
 * charge in them (reports.md §1.4). Kept by differences, a sum kept the
 * scale of a charge a resubmission had replaced or removed (`12.000` where
 * the project's day cells said `12`); the drain now takes the largest scale
 * of the day cells again when one fell (RollupRepository.applySiteDayDeltas).
 * This mends the sums written before: each `amie.charge` sum takes the
 * largest scale of its day cells where its own is larger. Values do not
 * change (the digits dropped are zeros); `down` has nothing to undo.
 */
export class ReportSiteDayChargeScale1763802000000 implements MigrationInterface {
  name = 'ReportSiteDayChargeScale1763802000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE report_usage_site_day_cell s SET quantity = round(s.quantity, x.sc)
       FROM (SELECT site, day, meter, key, subkey, max(scale(quantity)) AS sc
             FROM report_usage_day_cell WHERE meter = 'amie.charge' GROUP BY 1, 2, 3, 4, 5) x
       WHERE s.meter = 'amie.charge' AND s.site = x.site AND s.day = x.day AND s.meter = x.meter AND s.key = x.key AND s.subkey = x.subkey
         AND scale(s.quantity) > x.sc`,
    );
  }

  async down(): Promise<void> {
    // The scales mended are the ones the sums should have had; nothing to undo.
  }
}
