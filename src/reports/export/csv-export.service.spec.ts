import { StreamableFile } from '@nestjs/common';
import pino from 'pino';
import { Readable } from 'node:stream';
import { AppConfig } from '../../config/app-config';
import { DomainError } from '../../http/domain-error';
import { CsvExportRepository, SnapshotCursor } from './csv-export.repository';
import { CsvExportService } from './csv-export.service';

/** A cursor over fixed rows that records what the service asked of it. */
class FakeCursor implements SnapshotCursor {
  reads = 0;
  closedWith: unknown[] = [];
  private offset = 0;
  constructor(
    private readonly rows: Record<string, unknown>[],
    private readonly failOnRead?: number,
  ) {}
  async read(max: number) {
    this.reads++;
    if (this.reads === this.failOnRead) throw new Error('connection lost mid-export');
    const batch = this.rows.slice(this.offset, this.offset + max);
    this.offset += batch.length;
    return batch;
  }
  async close(failure?: unknown) {
    this.closedWith.push(failure ?? 'ok');
  }
}

function serviceWith(cursors: FakeCursor[], slots = 2, openError?: Error) {
  const repository = {
    async openSnapshot() {
      if (openError) throw openError;
      return cursors.shift()!;
    },
  } as unknown as CsvExportRepository;
  return new CsvExportService(AppConfig.fromValues({ REPORT_MAX_EXPORTS: String(slots) }), repository, pino({ level: 'silent' }));
}

async function readAll(file: StreamableFile): Promise<{ text: string; error?: Error }> {
  let text = '';
  try {
    for await (const chunk of file.getStream() as Readable) text += chunk.toString();
    return { text };
  } catch (error) {
    return { text, error: error as Error };
  }
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ n: i + 1, q: `${i + 1}.50`, ok: i % 2 === 0 }));
const settle = () => new Promise((r) => setImmediate(r));

describe(CsvExportService.name, () => {
  it('streams the header and every row in batches, then closes the cursor cleanly and frees the slot', async () => {
    const cursor = new FakeCursor(rows(5));
    const service = serviceWith([cursor]);
    const file = await service.stream({ route: 'usage', window: { period: '2025-03', start: new Date(0), end: new Date(1) }, sql: 'x', params: [], columns: ['n', 'q', 'ok'], batchSize: 2 });
    expect(file.getHeaders()).toEqual({ type: 'text/csv; charset=utf-8', disposition: 'attachment; filename="usage-2025-03.csv"', length: undefined });
    expect(service.running).toBe(1);
    const { text, error } = await readAll(file);
    expect(error).toBeUndefined();
    expect(text).toBe('n,q,ok\r\n1,1.50,true\r\n2,2.50,false\r\n3,3.50,true\r\n4,4.50,false\r\n5,5.50,true\r\n');
    await settle();
    expect(cursor.reads).toBe(3);
    expect(cursor.closedWith).toEqual(['ok']);
    expect(service.running).toBe(0);
  });

  it('reads one batch more when the last one was full, and writes the header alone for no rows', async () => {
    const full = new FakeCursor(rows(4));
    const service = serviceWith([full, new FakeCursor([])]);
    expect((await readAll(await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'], batchSize: 2 }))).text).toBe('n\r\n1\r\n2\r\n3\r\n4\r\n');
    expect(full.reads).toBe(3);
    expect((await readAll(await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n', 'q'], bom: true }))).text).toBe('\uFEFFn,q\r\n');
  });

  it('reads nothing more while the consumer does not ask (back-pressure)', async () => {
    const cursor = new FakeCursor(rows(10000).map((row) => ({ ...row, pad: 'x'.repeat(1000) })));
    const service = serviceWith([cursor]);
    const file = await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n', 'pad'], batchSize: 10 });
    await new Promise((r) => setTimeout(r, 50));
    // Only what fills the stream buffers (tens of kilobytes): far from the 1000 batches.
    expect(cursor.reads).toBeLessThan(10);
    expect(service.running).toBe(1);
    const stream = file.getStream() as Readable;
    stream.destroy();
    await settle();
    await settle();
    expect(cursor.closedWith).toHaveLength(1);
    expect(service.running).toBe(0);
  });

  it('fails before the answer starts when the first batch cannot be formatted, closing the cursor and freeing the slot', async () => {
    const cursor = new FakeCursor(rows(3));
    const service = serviceWith([cursor]);
    await expect(service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n', 'missing'] })).rejects.toThrow(/missing: the row has no such field/);
    expect(cursor.closedWith).toHaveLength(1);
    expect(cursor.closedWith[0]).toBeInstanceOf(Error);
    expect(service.running).toBe(0);
  });

  it('fails before the answer starts when the snapshot cannot be opened', async () => {
    const service = serviceWith([], 1, new Error('database down'));
    await expect(service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'] })).rejects.toThrow('database down');
    expect(service.running).toBe(0);
  });

  it('errors the stream (the transport then aborts) on a failure after the header: a later batch that cannot be read or formatted', async () => {
    const lost = new FakeCursor(rows(10), 3);
    const bad = new FakeCursor(rows(10));
    const service = serviceWith([lost, bad]);
    const first = await readAll(await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'], batchSize: 2 }));
    expect(first.error?.message).toBe('connection lost mid-export');
    expect(first.text.startsWith('n\r\n1\r\n')).toBe(true);
    expect(first.text).not.toContain('\r\n5\r\n');
    const second = await readAll(
      await service.stream({
        route: 'usage',
        sql: 'x',
        params: [],
        columns: ['n'],
        batchSize: 2,
        row: (r) => {
          if (r.n === 7) throw new Error('row 7 cannot be formatted');
          return r;
        },
      }),
    );
    expect(second.error?.message).toBe('row 7 cannot be formatted');
    expect(second.text).not.toContain('\r\n7\r\n');
    await settle();
    expect(lost.closedWith).toHaveLength(1);
    expect((lost.closedWith[0] as Error).message).toBe('connection lost mid-export');
    expect((bad.closedWith[0] as Error).message).toBe('row 7 cannot be formatted');
    expect(service.running).toBe(0);
  });

  it('refuses an export past REPORT_MAX_EXPORTS with a 429 code and Retry-After 5, before touching the database', async () => {
    const service = serviceWith([new FakeCursor(rows(1)), new FakeCursor(rows(1)), new FakeCursor(rows(1))], 2);
    const a = await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'] });
    await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'] });
    const refusal = await service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'] }).catch((e: DomainError) => e);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ code: 'reports.export_busy', extra: { retryAfter: 5 } });
    // A stream whose rows are all read from the database still holds its slot until its last byte is taken.
    await settle();
    expect(service.running).toBe(2);
    await readAll(a);
    await settle();
    expect(service.running).toBe(1);
    await expect(service.stream({ route: 'usage', sql: 'x', params: [], columns: ['n'] })).resolves.toBeInstanceOf(StreamableFile);
  });
});
