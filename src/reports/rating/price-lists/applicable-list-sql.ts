/**
 * The price list that applies to a project in a currency (reports.md 4.1
 * decision): the list naming the project, else the currency's default list
 * (`project_ids = '{}'`); null when neither exists. One SQL expression over
 * the caller's column or parameter expressions, for every statement that
 * rates at read time (the usage report's fragments, the detail lines, the
 * unpriced-cells gauge). The rating engine's FRESH relation says the same
 * for every currency at once (src/reports/rating/engine/rating.repository.ts).
 */
export function applicableListId(project: string, currency: string): string {
  return `coalesce(
      (SELECT lp.price_list_id FROM report_price_list_project lp WHERE lp.project_id = ${project} AND lp.currency = ${currency}),
      (SELECT d.id FROM report_price_list d WHERE d.currency = ${currency} AND d.project_ids = '{}'))`;
}
