import { SingleBar } from 'cli-progress';
import { CliError } from './cli-error';
import { LedgerClient } from './ledger-client';
import { Output } from './output';

/** A report job as `/admin/reports/jobs/{id}` answers it (reports.md 4.7). */
export interface Job {
  id: string;
  kind: string;
  state: string;
  progress: { total: number | null; done: number; ratio: string | null; eta_seconds: number | null };
  result: Record<string, unknown> | null;
  error: string | null;
}

const FINAL = ['succeeded', 'failed', 'cancelled'];

/** Polls a job until it finishes (whichever way), with a progress bar on a terminal. */
export async function followJob(client: LedgerClient, job: Job, output: Output, options: { progress: boolean; pollMs: number }): Promise<Job> {
  const bar = options.progress && output.interactive ? new SingleBar({ format: `${job.kind} ${job.id} [{bar}] {percentage}% {value}/{total} project-days, eta {eta_formatted}`, stream: process.stderr }) : undefined;
  let started = false;
  let current = job;
  try {
    while (!FINAL.includes(current.state)) {
      await new Promise((r) => setTimeout(r, options.pollMs));
      current = await client.get<Job>(`/admin/reports/jobs/${encodeURIComponent(job.id)}`);
      if (bar && current.progress.total !== null) {
        if (!started) bar.start(current.progress.total, current.progress.done);
        started = true;
        bar.update(current.progress.done);
      }
    }
  } finally {
    bar?.stop();
  }
  return current;
}

/** The error of a job that did not succeed; undefined when it did. */
export function jobFailure(job: Job): CliError | undefined {
  if (job.state === 'failed') return new CliError(`job ${job.id} failed: ${job.error ?? 'no error given'}`);
  if (job.state === 'cancelled') return new CliError(`job ${job.id} was cancelled`);
  return undefined;
}
