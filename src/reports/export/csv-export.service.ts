import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { Logger } from 'pino';
import { finished, pipeline, Readable } from 'node:stream';
import { AppConfig } from '../../config/app-config';
import { LOGGER } from '../../core/tokens';
import { DomainError } from '../../http/domain-error';
import { csvRecord } from './csv-fields';
import { csvContentDisposition, csvFileName, CsvFileWindow } from './csv-file-name';
import { CsvExportRepository, SnapshotCursor } from './csv-export.repository';
import { EXPORT_RETRY_AFTER_SECONDS, ExportError } from './export.errors';
import { ExportSlots } from './export-slots';

/** What a list route hands over to answer as CSV (reports.md 1.7). */
export interface CsvExport<Row extends Record<string, unknown> = Record<string, unknown>> {
  /** The path after `/reports/` (`usage/entities`), or its segments (`['budgets', projectId, 'ledger']`): the file name. */
  route: string | readonly string[];
  /** The report's window for the file name; absent for a route without one. */
  window?: CsvFileWindow | null;
  /**
   * One statement producing every row in the export's order, from a report
   * repository. Decimals as text (`quantity::text`, or a `numeric` column,
   * which node-postgres gives as text): never through a JS number.
   */
  sql: string;
  params: readonly unknown[];
  /** The CSV columns in order: the fields of the route's JSON rows, nested objects as `a.b`. */
  columns: readonly string[];
  /**
   * Maps a database row to the row of the route's JSON answer (catalogue
   * names, narrowing a `user`'s view), when the SQL does not give it as is.
   * Runs once per row; whatever it throws fails the export.
   */
  row?: (row: Record<string, unknown>) => Row;
  /** `bom=1`: start the file with a UTF-8 byte order mark. */
  bom?: boolean;
  /** Rows per cursor read; default 1000. */
  batchSize?: number;
  /** Server settings for the export's transaction only (`SET LOCAL`), e.g. `{ jit: 'off' }`. */
  settings?: Readonly<Record<string, string>>;
}

const DEFAULT_BATCH = 1000;

/** The rows of each answered export, by the stream handed to the reply. */
const STREAMED = new WeakMap<object, ExportRows>();

/**
 * The data rows (header not counted) an export's stream has been given so
 * far, when `payload` is the body of a CSV export; otherwise undefined. Read
 * once the answer has ended (an `onResponse` hook), it is the rows streamed:
 * `ledger_report_rows_total` (reports.md §9.1).
 */
export function csvRowsStreamed(payload: unknown): number | undefined {
  return typeof payload === 'object' && payload !== null ? STREAMED.get(payload)?.rowCount : undefined;
}

/**
 * Answers a list route as CSV (reports.md 1.7): `200 text/csv` with an
 * attachment file name, the body streamed in chunks (no Content-Length)
 * from a server-side cursor in one REPEATABLE READ READ ONLY transaction on
 * one dedicated connection, RFC 4180 with CRLF and a header row always,
 * back-pressure honoured end to end. At most `REPORT_MAX_EXPORTS` streams run
 * at once in the process; more is `429` with `Retry-After: 5`.
 *
 * Everything that can fail early (slot, connection, the statement, the
 * first batch and its formatting) fails before the answer starts and is
 * rendered by the global filter like any error. A failure after the header
 * aborts the connection: the chunked body never ends, so a client sees a
 * failed transfer, never a short file. The connection and the slot are given
 * back however the export ends (done, failed, client gone, HEAD).
 */
@Injectable()
export class CsvExportService {
  private readonly slots: ExportSlots;
  private readonly log: Logger;

  constructor(
    config: AppConfig,
    private readonly repository: CsvExportRepository,
    @Inject(LOGGER) log: Logger,
  ) {
    this.slots = new ExportSlots(config.reportMaxExports);
    this.log = log.child({ component: 'csv-export' });
  }

  /** Exports streaming now in this process. */
  get running(): number {
    return this.slots.inUse;
  }

  /**
   * Opens the export; the controller returns what this gives (JSON routes
   * return their object instead). Call it outside any transaction: the
   * export takes a connection of its own, and embedded PostgreSQL has one
   * (a caller holding it would wait on itself). Resolve what the SQL needs
   * (window, scope) first, with ordinary queries.
   */
  async stream<Row extends Record<string, unknown>>(spec: CsvExport<Row>): Promise<StreamableFile> {
    const fileName = csvFileName(spec.route, spec.window);
    const batchSize = spec.batchSize ?? DEFAULT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`CsvExport.batchSize must be a whole number ≥ 1, not ${batchSize}`);
    const releaseSlot = this.slots.tryAcquire();
    if (!releaseSlot) {
      throw new DomainError(ExportError.Busy, `${this.slots.size} CSV export(s) are running, the most this server runs at once; retry in ${EXPORT_RETRY_AFTER_SECONDS} seconds`, {
        retryAfter: EXPORT_RETRY_AFTER_SECONDS,
      });
    }
    const toRecord = (row: Record<string, unknown>) => csvRecord(spec.row ? spec.row(row) : row, spec.columns);
    let cursor: SnapshotCursor | undefined;
    let first: string[][];
    let exhausted: boolean;
    try {
      cursor = await this.repository.openSnapshot(spec.sql, spec.params, spec.settings);
      const rows = await cursor.read(batchSize);
      exhausted = rows.length < batchSize;
      first = rows.map(toRecord);
    } catch (error) {
      await cursor?.close(error);
      releaseSlot();
      throw error;
    }

    // The slot is the whole export: free once the connection is given back and the last byte has left (or the transfer failed).
    let running = 2;
    const ended = () => {
      if (--running === 0) releaseSlot();
    };
    const source = new ExportRows(cursor, batchSize, toRecord, [spec.columns as string[], ...first], exhausted, ended);
    const csv = stringify({ bom: spec.bom === true, record_delimiter: '\r\n', quoted_match: /[\r\n]/ });
    const started = Date.now();
    pipeline(source, csv, () => undefined);
    STREAMED.set(csv, source);
    // pipeline's callback comes once the stringifier has taken every record; the export ends when its output is read, or fails.
    finished(csv, (error) => {
      ended();
      const fields = { route: fileName, rows: source.rowCount, ms: Date.now() - started };
      if (!error) this.log.debug(fields, 'CSV export done');
      else if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') this.log.info(fields, 'CSV export stopped: the client went away');
      else this.log.error({ ...fields, err: error }, 'CSV export failed after the header; connection aborted');
    });
    return new StreamableFile(csv, { type: 'text/csv; charset=utf-8', disposition: csvContentDisposition(fileName) });
  }
}

/**
 * The records of an export, header first, one cursor batch per `_read`:
 * nothing is read from the database until the consumer asks for more, so a
 * slow client slows the cursor instead of filling memory.
 */
class ExportRows extends Readable {
  rowCount = 0;
  private pending: string[][];
  private reading = false;

  constructor(
    private readonly cursor: SnapshotCursor,
    private readonly batchSize: number,
    private readonly toRecord: (row: Record<string, unknown>) => string[],
    head: string[][],
    private exhausted: boolean,
    /** Called once the cursor is closed and its connection given back. */
    private readonly onClosed: () => void,
  ) {
    super({ objectMode: true, highWaterMark: 16 });
    this.pending = head;
    this.rowCount = head.length - 1;
  }

  override _read(): void {
    if (this.pending.length > 0) {
      const records = this.pending;
      this.pending = [];
      for (const record of records) this.push(record);
      if (this.exhausted) this.push(null);
      return;
    }
    if (this.reading || this.exhausted) return;
    this.reading = true;
    this.cursor.read(this.batchSize).then(
      (rows) => {
        this.reading = false;
        if (this.destroyed) return;
        let records: string[][];
        try {
          records = rows.map(this.toRecord);
        } catch (error) {
          this.destroy(error as Error);
          return;
        }
        this.rowCount += records.length;
        this.exhausted = rows.length < this.batchSize;
        for (const record of records) this.push(record);
        if (this.exhausted) this.push(null);
      },
      (error: Error) => {
        this.reading = false;
        this.destroy(error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.cursor
      .close(error ?? undefined)
      .finally(() => this.onClosed())
      .then(() => callback(error));
  }
}
