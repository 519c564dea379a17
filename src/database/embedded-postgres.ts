import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** Options for node-postgres: a Unix socket folder, as libpq uses it. */
  host: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Embedded PostgreSQL for a machine with only Node: PGlite persisted under
 * `dataDir` (or in memory for `memory://`), served over a private Unix socket
 * so that TypeORM and `pg` use exactly the code paths they use against a real
 * server. PGlite runs one query at a time and a transaction holds it for its
 * whole length, so every query of a transaction must go through that
 * transaction's manager or the process waits on itself.
 *
 * PGlite's files may be opened by one process only: a lock file with the
 * owner's pid refuses a second process (a stale lock of a dead pid is taken
 * over).
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 2): Promise<EmbeddedPostgres> {
  const inMemory = dataDir === 'memory://';
  let lockFile: string | undefined;
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    lockFile = join(dataDir, 'usage-ledger.lock');
    takeLock(lockFile);
  }
  // btree_gist: the exclusion constraints of price items (reports.md 4.1) need
  // it, and PGlite loads an extension only when it is handed over here.
  const db = await PGlite.create(inMemory ? 'memory://' : join(dataDir, 'pglite'), { extensions: { btree_gist } });
  const socketDir = mkdtempSync(join(tmpdir(), 'usage-ledger-pg-'));
  const port = 5432;
  const server = new PGLiteSocketServer({
    db,
    path: join(socketDir, `.s.PGSQL.${port}`),
    maxConnections,
  });
  await server.start();
  let stopped = false;
  return {
    host: socketDir,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
      if (lockFile) rmSync(lockFile, { force: true });
    },
  };
}

function takeLock(lockFile: string): void {
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number(readFileSync(lockFile, 'utf8'));
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw new Error(
      `the embedded database in ${lockFile.replace(/\/usage-ledger\.lock$/, '')} is in use by process ${owner}; ` +
        'stop it, or set DATABASE_URL to share a PostgreSQL server between processes',
    );
  }
  writeFileSync(lockFile, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
