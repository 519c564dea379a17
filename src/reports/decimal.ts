import Decimal from 'decimal.js';

/**
 * The one decimal type of the reports module (reports.md §1.4): exact
 * arithmetic on the strings PostgreSQL's `numeric` gives. 100 significant
 * digits leave every sum exact (quantities carry at most 6 fractional
 * digits); rounding, where the contract asks for it, is half-even; no
 * exponent ever appears in `toFixed`.
 */
export const Exact = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -1000, toExpPos: 1000 });
export type Exact = Decimal;
