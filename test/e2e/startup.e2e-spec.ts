import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { buildDist, freePort, ROOT, startBuilt } from '../support/processes';

/**
 * What `npm start` prints, read as a new operator reads it: the built API
 * spawned on the embedded default (a fresh data folder), then started again
 * on the same folder. Logs are JSON lines on stdout; a failure to start is
 * one line on stderr.
 */
const ADMIN = 'startup-admin-token-0123456789';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
}

const lines = (stdout: string): LogLine[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);

const messages = (stdout: string) => lines(stdout).map((l) => l.msg);

describe('starting the API (node dist/src/main.js)', () => {
  let dataDir: string;

  beforeAll(() => {
    buildDist();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-startup-'));
  }, 300_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a first start on a fresh data folder says what it does in a few lines, route mapping not among them, and that nothing can be administered', async () => {
    const port = await freePort();
    const api = startBuilt('main', { DATA_DIR: dataDir, PORT: String(port) });
    try {
      await api.waitForLine(/usage-ledger listening on/);
    } finally {
      expect(await api.stop()).toBe(0);
    }
    const out = lines(api.stdout());
    const said = messages(api.stdout());
    expect(said).toContainEqual(`database: first start in ${dataDir}: creating the embedded PostgreSQL database`);
    expect(said).toContainEqual(expect.stringMatching(/^database: creating the schema \(\d+ migrations\)$/));
    expect(said).toContainEqual(expect.stringMatching(/^database: \d+ migrations applied in \d+\.\d s$/));
    // The creation is announced before it runs.
    expect(said.findIndex((m) => m.startsWith('database: creating the schema'))).toBeLessThan(said.findIndex((m) => /migrations applied/.test(m)));
    expect(said.filter((m) => m.startsWith('no admin credential'))).toEqual([
      'no admin credential: ADMIN_TOKEN is unset and no admin token is stored, so nothing can be administered (tokens, AMIE sites); set ADMIN_TOKEN (16 characters or more) and restart',
    ]);
    // Nest's wiring (a line per module and per route) is debug.
    expect(out.filter((l) => ['RoutesResolver', 'RouterExplorer', 'InstanceLoader'].includes(l.context ?? ''))).toEqual([]);
    expect(said.filter((m) => /Mapped \{/.test(m))).toEqual([]);
    expect(out.length).toBeLessThan(16);
    expect(api.stderr()).toBe('');
  }, 300_000);

  it('a second start on the same folder says nothing about creating; debug shows the route mapping; a stored admin token silences the admin notice', async () => {
    const port = await freePort();
    const api = startBuilt('main', { DATA_DIR: dataDir, PORT: String(port), ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'debug' });
    try {
      await api.waitForLine(/usage-ledger listening on/);
      await request(`http://127.0.0.1:${port}`).post('/admin/tokens').set('X-Auth-Token', ADMIN).send({ name: 'ops', role: 'admin' }).expect(201);
    } finally {
      expect(await api.stop()).toBe(0);
    }
    const said = messages(api.stdout());
    expect(said.filter((m) => /first start|creating the schema|migrations? applied|no admin credential/.test(m))).toEqual([]);
    expect(lines(api.stdout()).filter((l) => l.context === 'RouterExplorer' && l.level === 20).length).toBeGreaterThan(50);
    expect(api.stdout()).not.toContain(ADMIN);

    // Without ADMIN_TOKEN, but with an admin token stored: /admin is reachable, nothing to say.
    const again = startBuilt('main', { DATA_DIR: dataDir, PORT: String(await freePort()) });
    try {
      await again.waitForLine(/usage-ledger listening on/);
    } finally {
      expect(await again.stop()).toBe(0);
    }
    expect(messages(again.stdout()).filter((m) => /no admin credential|creating/.test(m))).toEqual([]);
  }, 300_000);

  describe('refusals', () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(port, '0.0.0.0', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => taken.close(resolve));
    });

    it('a taken port is one line naming the port and PORT, exit status 1, no stack and no error log', async () => {
      const api = startBuilt('main', { DATA_DIR: 'memory://', PORT: String(port), ADMIN_TOKEN: ADMIN });
      expect(await api.exited).toBe(1);
      expect(api.stderr()).toBe(`usage-ledger: cannot listen on 0.0.0.0:${port} (the port is taken by another process); set PORT (or HOST) to another value\n`);
      expect(api.stdout()).not.toMatch(/EADDRINUSE|"level":50/);
    }, 300_000);

    it('an API whose CSV exports could take every connection of its pool names both variables, exit status 2, before connecting', async () => {
      // Port 1: nothing listens there, so reaching the database would be another error.
      const api = startBuilt('main', { DATABASE_URL: 'postgres://ledger@127.0.0.1:1/ledger', DATABASE_POOL_SIZE: '4', REPORT_MAX_EXPORTS: '4' });
      expect(await api.exited).toBe(2);
      expect(api.stderr()).toBe(
        'usage-ledger: invalid configuration:\n  DATABASE_POOL_SIZE (4) must be greater than REPORT_MAX_EXPORTS (4) in an API process: each CSV export holds a connection while it streams\n',
      );
    }, 300_000);

    it('a bad PORT names the variable and its rule once, exit status 2', async () => {
      for (const value of ['abc', '0', '70000']) {
        const api = startBuilt('main', { DATA_DIR: 'memory://', PORT: value });
        expect(await api.exited).toBe(2);
        expect(api.stderr()).toBe('usage-ledger: invalid configuration:\n  PORT must be a whole number between 1 and 65535\n');
      }
    }, 300_000);
  });

  describe('npm start on a fresh clone (scripts/build-if-stale.js)', () => {
    // The script on a one-file project of its own: the same code, without
    // rebuilding this repository's dist/ under the other suites.
    let project: string;
    const run = () => execFileSync(process.execPath, [join(project, 'scripts', 'build-if-stale.js')], { encoding: 'utf8', cwd: project });
    beforeAll(() => {
      project = mkdtempSync(join(tmpdir(), 'ledger-build-'));
      for (const dir of ['scripts', 'src', 'migrations', 'bench']) mkdirSync(join(project, dir));
      for (const script of ['build-if-stale.js', 'copy-assets.js']) copyFileSync(join(ROOT, 'scripts', script), join(project, 'scripts', script));
      symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: '.', types: [], skipLibCheck: true }, include: ['src'] }));
      writeFileSync(join(project, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json' }));
      writeFileSync(join(project, 'src', 'main.ts'), 'export const started = true;\n');
    });
    afterAll(() => rmSync(project, { recursive: true, force: true }));

    it('says that the first start compiles, says nothing when dist/ is current, and says why it rebuilds', () => {
      expect(run()).toBe('building dist/ (first start: compiling the TypeScript sources, about a minute)\n');
      expect(run()).toBe('');
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(project, 'src', 'main.ts'), later, later);
      expect(run()).toBe('building dist/ (sources changed since the last build)\n');
    }, 120_000);
  });
});
