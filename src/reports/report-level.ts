/**
 * The cell level that answered a report (reports.md §9.1, label `level` of
 * `ledger_report_duration_seconds`), from the coarsest to the finest:
 * month cells, site-day cells (fleet figures), day cells (per project, the
 * today cell included), raw history. An answer that reads several levels
 * is labelled with the finest it read (docs/operations.md).
 */
export type ReportLevel = 'month' | 'site' | 'day' | 'raw';

const LEVELS: ReportLevel[] = ['month', 'site', 'day', 'raw'];

/** The finer of two levels: an answer read from both is labelled with it. */
export const finerLevel = (a: ReportLevel, b: ReportLevel): ReportLevel => (LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a report route that knows which cell level answered it; read by the metrics hook. */
    reportLevel?: ReportLevel;
  }
}
