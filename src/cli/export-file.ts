import { randomBytes } from 'node:crypto';
import { createWriteStream, unlinkSync, WriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { SingleBar } from 'cli-progress';
import { CliError } from './cli-error';
import { Download } from './ledger-client';
import { Output } from './output';

/*
 * Writes a streamed CSV answer (reports.md 1.7) to a file. The service
 * aborts the connection when it fails after the header (the chunked body
 * never terminates), so a transfer that does not end cleanly is an error:
 * the bytes go to a temporary name beside the target and are put in place
 * only once the body has ended properly. A failed transfer leaves no file
 * under the target's name, never a short one that looks complete.
 */

export interface ExportResult {
  file: string;
  bytes: number;
  rows: number;
}

/** The server's file name (Content-Disposition), reduced to one safe path component. */
export function suggestedName(headers: Headers): string | undefined {
  const match = /filename="([^"]*)"/i.exec(headers.get('content-disposition') ?? '');
  const name = match ? basename(match[1]).replace(/[^A-Za-z0-9._-]/g, '_') : '';
  return name && !/^\.+$/.test(name) ? name : undefined;
}

const formatBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/**
 * The temporary file as a sink whose failure is kept, not thrown at the
 * process: a write that fails after write() has returned (the bytes were
 * only buffered) surfaces at the next write or at the close.
 */
class FileSink {
  private failure: Error | undefined;

  constructor(private readonly stream: WriteStream) {
    stream.on('error', (error) => (this.failure ??= error));
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done).off('close', done);
          resolve();
        };
        this.stream.once('drain', done).once('close', done);
      });
    }
    this.check();
  }

  async close(): Promise<void> {
    this.check();
    await finished(this.stream.end()).catch((error: Error) => (this.failure ??= error));
    this.check();
  }

  destroy(): void {
    this.stream.destroy();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

export async function saveDownload(download: Download, target: string, options: { overwrite: boolean; output: Output; progress: boolean }): Promise<ExportResult> {
  if (!options.overwrite) {
    if (await exists(target)) throw new CliError(`${target} exists: choose another --out, or --force to replace it`);
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.part`);
  let stream: WriteStream;
  try {
    stream = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  } catch (error) {
    throw new CliError(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const sink = new FileSink(stream);
  const bar =
    options.progress && options.output.interactive
      ? new SingleBar({ format: `${basename(target)}: {size}, {rows} rows, {duration_formatted}`, stream: process.stderr, hideCursor: true })
      : undefined;
  // Interrupted (Ctrl-C, kill), the process ends without running the
  // finally below: the temporary file is removed here, then it exits as the
  // signal would have ended it (128 + its number).
  const onSignal = (signal: NodeJS.Signals) => {
    bar?.stop();
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    options.output.err(`usage-ledger: interrupted (${signal}): no file written`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let bytes = 0;
  // Line ends outside quotes (RFC 4180: a quoted field may hold line breaks; a doubled quote toggles twice).
  let rows = 0;
  let inQuotes = false;
  let done = false;
  bar?.start(0, 0, { size: formatBytes(0), rows: 0 });
  try {
    try {
      for await (const chunk of download.body) {
        await sink.write(chunk);
        bytes += chunk.length;
        for (const b of chunk) {
          if (b === 0x22) inQuotes = !inQuotes;
          else if (b === 0x0a && !inQuotes) rows++;
        }
        bar?.update(0, { size: formatBytes(bytes), rows: Math.max(rows - 1, 0) });
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (error as Error).message;
      if ((error as NodeJS.ErrnoException).syscall) throw new CliError(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code}`);
      throw new CliError(`the transfer broke off after ${formatBytes(bytes)} (${detail}): the service aborted the export or the connection was lost; no file written`);
    }
    try {
      await sink.close();
    } catch (error) {
      throw new CliError(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    await place(temp, target, options.overwrite);
    done = true;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar?.stop();
    if (!done) {
      sink.destroy();
      await unlink(temp).catch(() => undefined);
    }
  }
  // A CSV answer always has a header row (reports.md 1.7): data rows are the lines after it.
  return { file: target, bytes, rows: Math.max(rows - 1, 0) };
}

/** Puts the finished file in place (a rename: readers see the whole file or none). */
async function place(temp: string, target: string, overwrite: boolean): Promise<void> {
  if (!overwrite && (await exists(target))) throw new CliError(`${target} appeared during the export: choose another --out, or --force to replace it`);
  try {
    await rename(temp, target);
  } catch (error) {
    throw new CliError(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
