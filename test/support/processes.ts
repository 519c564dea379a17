import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

/**
 * The real processes of the durability, concurrency and start-up suites: the
 * built entry points (`dist/src/<script>.js`, built by `buildDist`) started
 * with a clean environment. Their stderr is shown only with TEST_LOG_LEVEL
 * set, so a passing run stays quiet.
 *
 * ROOT is the repository root: the built entry points are under dist/src.
 */
export const ROOT = join(__dirname, '..', '..');

/** Builds dist/ when a source is newer than it (scripts/build-if-stale.js): suites call it in beforeAll. */
export function buildDist(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.js')], { stdio: 'ignore', cwd: ROOT });
}

/**
 * The environment of a suite's built process: logs at warn and no nightly sampled check (it has its
 * own suite: its job would run beside the job a suite is timing), then `env`.
 */
export function distEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', CHECK_SAMPLE_PER_NIGHT: '0', ...env };
}

/** A built process for the suites that only start and stop it (`distEnv`). */
export function startDist(script: 'main' | 'worker' | 'collector', env: Record<string, string | undefined>): ChildProcess {
  return startBuilt(script, distEnv(env)).child;
}

/** Sends the signal and waits for the exit; nothing to do for a process already gone. */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** Polls `check` until it answers true; an error naming `what` past the timeout. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP port nobody listens on right now, on the loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A built process whose output is kept, as an operator would read it. */
export interface WatchedProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout has a line matching `pattern`; rejects when the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** SIGTERM (or `signal`) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Spawns `node dist/src/<script>.js` with exactly `env` (plus PATH): nothing
 * of the test run's environment leaks in (no DATABASE_URL unless given).
 */
export function startBuilt(script: 'main' | 'worker' | 'collector', env: Record<string, string | undefined>): WatchedProcess {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', `${script}.js`)], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    out += d;
    for (const check of waiters) check();
  });
  child.stderr!.on('data', (d) => {
    err += d;
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(d);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        const check = () => {
          const line = out.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) finish(undefined, line);
        };
        const finish = (error?: Error, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(line!);
        };
        waiters.add(check);
        void exited.then((code) => finish(new Error(`exited (${code}) before a line matching ${pattern}; stdout:\n${out}\nstderr:\n${err}`)));
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Waits until at least `n` sessions of this database wait on a lock: the
 * durability suites hold a row (or advisory lock) from a second connection
 * and wait for the worker's transaction to block on it before killing it or
 * releasing it, so nothing depends on a timed sleep.
 */
export async function untilLockWaiters(db: { query(sql: string): Promise<{ waiting: number }[]> }, n: number, what: string, timeoutMs = 60_000): Promise<void> {
  await until(what, async () => {
    const [{ waiting }] = await db.query(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return waiting >= n;
  }, timeoutMs);
}

/** A report job's state and progress, as `report_job` holds them. */
export interface JobProgress {
  state: string;
  total: number;
  done: number;
}

export async function jobProgress(db: DataSource, id: string): Promise<JobProgress> {
  const [row]: JobProgress[] = await db.query(`SELECT state, progress_total::int AS total, progress_done::int AS done FROM report_job WHERE id = $1`, [id]);
  return row;
}

/**
 * Kills a worker in the middle of a chunk of job `id`: holds the job row FOR
 * UPDATE from a connection of its own, waits until the worker's next chunk
 * waits on it inside its transaction, runs `kill` (SIGKILL the worker), then
 * releases the row. Answers the job's progress as it was while held, which
 * the killed chunk must not have changed (the caller checks both).
 */
export async function killWhileHoldingJob(db: DataSource, id: string, kill: () => Promise<void>): Promise<JobProgress> {
  const holder = new Client({ connectionString: process.env.DATABASE_URL });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM report_job WHERE id = $1 FOR UPDATE', [id]);
    const held = await jobProgress(db, id);
    await untilLockWaiters(db, 1, 'the worker to wait on the job row');
    await kill();
    await holder.query('COMMIT');
    return held;
  } finally {
    await holder.end().catch(() => undefined);
  }
}
