import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../support/cli';
import { buildDist, freePort } from '../support/processes';
import { almanach, drainRollups } from '../support/reports';
import { ADMIN_TOKEN, startTestApp, TestApp } from '../support/test-app';

/**
 * The operator CLI `usage-ledger` (issue 12: tokens, sites, flavors import,
 * reports export; `reports check|rebuild` are in reports-check.e2e-spec.ts)
 * run as the built `bin`, a child process, against the listening app: every
 * command, its table and --json forms, and its failures (a bad argument or
 * file, a 4xx with the server's message, a service that cannot be reached),
 * each exit status 2 with one line on stderr. Secrets are looked for where
 * they must not be.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const cli = runCli;

/** As `openstack flavor list --long -f json` prints it. */
const OPENSTACK_FLAVORS = [
  { ID: '1', Name: 'm1.tiny', RAM: 512, Disk: 1, Ephemeral: 0, VCPUs: 1, 'Is Public': true, Swap: 0, 'RXTX Factor': 1.0, Properties: {} },
  { ID: '2', Name: 'm1.small', RAM: 2048, Disk: 20, Ephemeral: 0, VCPUs: 1, 'Is Public': true, Swap: 0, 'RXTX Factor': 1.0, Properties: {} },
  { ID: '7d6e0bd6-3b8a-4d0e-9d7a-1f0c2b3a4e5d', Name: 'g1.large', RAM: 65536, Disk: 40, Ephemeral: 100, VCPUs: 16, 'Is Public': false, Swap: '', 'RXTX Factor': 1.0, Properties: { 'pci_passthrough:alias': 'a100:2' } },
];

describe('usage-ledger CLI (tokens, sites, flavors, reports export)', () => {
  let t: TestApp;
  let url: string;
  let dir: string;
  const connection = () => ['--url', url, '--token', ADMIN_TOKEN];

  beforeAll(async () => {
    // The CLI runs the compiled code.
    buildDist();
    t = await startTestApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
    await t.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    dir = mkdtempSync(join(tmpdir(), 'usage-ledger-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const admin = {
    get: (path: string) => t.http.get(path).set('X-Auth-Token', ADMIN_TOKEN),
  };

  describe('tokens', () => {
    it('create prints the secret once, on stdout; the token works; list shows it without the secret; revoke stops it', async () => {
      const created = await cli(['tokens', 'create', '--name', 'billing', '--role', 'reader', '--project', 'p1,p2', '--project', 'p3', ...connection()]);
      expect(created.code).toBe(0);
      const secret = /^token\s+(\S+)$/m.exec(created.stdout)![1];
      const id = /^id\s+(\S+)$/m.exec(created.stdout)![1];
      expect(id).toMatch(UUID);
      expect(created.stdout).toMatch(/^role\s+reader$/m);
      expect(created.stdout).toMatch(/^project_ids\s+p1, p2, p3$/m);
      expect(created.stdout.split(secret)).toHaveLength(2);
      expect(created.stderr).toBe('the token is shown only this once: store it now (X-Auth-Token)\n');
      await t.http.get('/reports/flavors').set('X-Auth-Token', secret).expect(200);

      const listed = await cli(['tokens', 'list', ...connection()]);
      expect(listed).toMatchObject({ code: 0, stderr: '' });
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+billing\\s+reader\\s+p1,p2,p3\\s+\\d{4}-`, 'm'));
      expect(listed.stdout).not.toContain(secret);
      const json = await cli(['tokens', 'list', '--json', ...connection()]);
      expect(JSON.parse(json.stdout)).toEqual([{ id, name: 'billing', role: 'reader', user_id: null, project_ids: ['p1', 'p2', 'p3'], created_at: expect.any(String) }]);
      expect(json.stdout).not.toContain(secret);

      const revoked = await cli(['tokens', 'revoke', id, ...connection()]);
      expect(revoked).toEqual({ code: 0, stdout: `token ${id} revoked\n`, stderr: '' });
      await t.http.get('/reports/flavors').set('X-Auth-Token', secret).expect(401);
      expect(JSON.parse((await cli(['tokens', 'list', '--json', ...connection()])).stdout)).toEqual([]);
    });

    it('create --json answers the server\'s object, the secret in "token"; a user token with its user id', async () => {
      const res = await cli(['tokens', 'create', '--name', 'alice', '--role', 'user', '--user-id', 'alice', '--project', 'p1', '--json'], { env: { LEDGER_URL: url, LEDGER_TOKEN: ADMIN_TOKEN } });
      expect(res).toMatchObject({ code: 0, stderr: '' });
      const body = JSON.parse(res.stdout);
      expect(body).toEqual({ id: expect.stringMatching(UUID), name: 'alice', role: 'user', user_id: 'alice', project_ids: ['p1'], token: expect.any(String), created_at: expect.any(String) });
      await t.http.get('/reports/projects').set('X-Auth-Token', body.token).expect(200);
      const revoked = await cli(['tokens', 'revoke', body.id, '--json', ...connection()]);
      expect(JSON.parse(revoked.stdout)).toEqual({ id: body.id, revoked: true });
    });

    it('exits 2 with the server\'s message: an unknown id (404), a user token without user id (400), a caller that is not admin (403)', async () => {
      const unknown = await cli(['tokens', 'revoke', '6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10', ...connection()]);
      expect(unknown).toEqual({ code: 2, stdout: '', stderr: 'usage-ledger: DELETE /admin/tokens/6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10: 404 token 6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10 not found\n' });
      const noUser = await cli(['tokens', 'create', '--name', 'x', '--role', 'user', ...connection()]);
      expect(noUser).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^usage-ledger: POST \/admin\/tokens: 400 .*user_id must be a non-empty string/) });
      const reader = await t.token('reader');
      const refused = await cli(['tokens', 'list', '--url', url, '--token', reader]);
      expect(refused).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^usage-ledger: GET \/admin\/tokens: 403 \S/) });
      expect(refused.stderr).not.toContain(reader);
      const unknownToken = await cli(['tokens', 'list', '--url', url, '--token', 'not-a-known-token']);
      expect(unknownToken).toMatchObject({ code: 2, stderr: expect.stringMatching(/^usage-ledger: GET \/admin\/tokens: 401 /) });
      expect(unknownToken.stderr).not.toContain('not-a-known-token');
    });

    it('revoke refuses what is not a token id before sending it, without repeating it (a secret pasted by mistake)', async () => {
      const secret = await t.token('reader');
      const res = await cli(['tokens', 'revoke', secret, '--url', `http://127.0.0.1:${await freePort()}`, '--token', ADMIN_TOKEN]);
      // Refused before any connection: the dead port is never tried.
      expect(res).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('not a token id') });
      expect(res.stderr).not.toContain(secret);
      await t.http.get('/reports/flavors').set('X-Auth-Token', secret).expect(200);
      // A secret is base64url: one in 64 starts with "-", which commander would take for an option and quote.
      const dashed = `-${secret.slice(1)}`;
      const dashedRes = await cli(['tokens', 'revoke', dashed, '--url', `http://127.0.0.1:${await freePort()}`, '--token', ADMIN_TOKEN]);
      expect(dashedRes).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('not a token id') });
      expect(dashedRes.stderr).not.toContain(dashed.slice(1));
    });

    it('argument errors do not repeat a long value (a secret pasted where an option or a choice goes)', async () => {
      const secret = await t.token('reader');
      const misplaced = await cli(['tokens', 'list', `--${secret}`, '--url', `http://127.0.0.1:${await freePort()}`, '--token', ADMIN_TOKEN]);
      expect(misplaced).toEqual({ code: 2, stdout: '', stderr: `error: unknown option (a value of ${secret.length + 2} characters, not repeated here: it may be a secret)\n` });
      const choice = await cli(['tokens', 'create', '--name', 'x', '--role', secret, '--url', `http://127.0.0.1:${await freePort()}`, '--token', ADMIN_TOKEN]);
      expect(choice).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('is invalid. Allowed choices are admin, service, reader, user') });
      expect(choice.stderr).not.toContain(secret);
      // A secret pasted after --url, or a URL with credentials in it, is not repeated either.
      const asUrl = await cli(['tokens', 'list', '--url', secret, '--token', ADMIN_TOKEN]);
      expect(asUrl).toEqual({ code: 2, stdout: '', stderr: `usage-ledger: --url: not a URL: (a value of ${secret.length} characters, not repeated here: it may be a secret)\n` });
      const withCredentials = await cli(['tokens', 'list', '--url', `ftp://admin:${secret}@ledger.example`, '--token', ADMIN_TOKEN]);
      expect(withCredentials).toEqual({ code: 2, stdout: '', stderr: 'usage-ledger: --url: must be an http or https URL: ftp://ledger.example/\n' });
      // A short one, like a mistyped option, is still named.
      expect(await cli(['tokens', 'list', '--jsno', '--token', ADMIN_TOKEN])).toMatchObject({ code: 2, stderr: "error: unknown option '--jsno'\n(Did you mean --json?)\n" });
    });

    it.each([
      [['tokens', 'create', '--role', 'reader'], /--name/],
      [['tokens', 'create', '--name', 'x', '--role', 'root'], /--role.*Allowed choices are admin, service, reader, user/],
      [['tokens', 'revoke'], /missing required argument 'id'/],
      [['tokens', 'rename'], /unknown command/],
    ])('exits 2 on a bad argument: %j', async (args, message) => {
      const res = await cli([...args, ...connection()]);
      expect(res).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
    });
  });

  describe('sites', () => {
    const failed = (creds: { name: string; key: string }) => t.http.get('/amie/usage/failed').set({ 'XA-Site': creds.name, 'XA-API-Key': creds.key });

    it('create prints the key once; list shows the site without it; rotate prints a new key and the old one stops working', async () => {
      const created = await cli(['sites', 'create', 'site-a', ...connection()]);
      expect(created.code).toBe(0);
      const key = /^api_key\s+(\S+)$/m.exec(created.stdout)![1];
      expect(created.stdout).toMatch(/^name\s+site-a$/m);
      expect(created.stderr).toBe('the key is shown only this once: give it to the site now (XA-Site and XA-API-Key)\n');
      await failed({ name: 'site-a', key }).expect(200);

      const listed = await cli(['sites', 'list', ...connection()]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^name\s+created_at\n-+\s+-+\nsite-a\s+\d{4}-\d\d-\d\dT/);
      expect(listed.stdout).not.toContain(key);
      expect(JSON.parse((await cli(['sites', 'list', '--json', ...connection()])).stdout)).toEqual([{ name: 'site-a', created_at: expect.any(String) }]);

      const rotated = await cli(['sites', 'rotate', 'site-a', '--json', ...connection()]);
      expect(rotated).toMatchObject({ code: 0, stderr: '' });
      const answer = JSON.parse(rotated.stdout);
      expect(answer).toEqual({ name: 'site-a', api_key: expect.any(String) });
      await failed({ name: 'site-a', key: answer.api_key }).expect(200);
      await failed({ name: 'site-a', key }).expect(401);
      const table = await cli(['sites', 'rotate', 'site-a', ...connection()]);
      expect(table.stdout).toMatch(/^name\s+site-a\napi_key\s+\S+\n$/);
    });

    it('exits 2 with the server\'s message: a taken name (409), a bad name (400), an unknown site (404), a caller that is not admin (403)', async () => {
      await cli(['sites', 'create', 'site-a', '--json', ...connection()]);
      expect(await cli(['sites', 'create', 'site-a', ...connection()])).toEqual({ code: 2, stdout: '', stderr: 'usage-ledger: POST /admin/sites: 409 site site-a already exists\n' });
      expect(await cli(['sites', 'create', '-bad', ...connection()])).toMatchObject({ code: 2 });
      const bad = await cli(['sites', 'create', 'a b', ...connection()]);
      expect(bad).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^usage-ledger: POST \/admin\/sites: 400 name must be 1 to 100 letters/) });
      expect(await cli(['sites', 'rotate', 'nowhere', ...connection()])).toEqual({ code: 2, stdout: '', stderr: 'usage-ledger: POST /admin/sites/nowhere/rotate: 404 site nowhere not found\n' });
      const service = await t.token('service');
      expect(await cli(['sites', 'list', '--url', url, '--token', service])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^usage-ledger: GET \/admin\/sites: 403 \S/) });
    });
  });

  describe('flavors import', () => {
    const catalogue = async () => (await admin.get('/reports/flavors').expect(200)).body.flavors as Record<string, unknown>[];

    it('imports what `openstack flavor list --long -f json` prints: names, ids as aliases, GPUs; then finds nothing to change', async () => {
      // History that stores a flavor by id: the alias sizes it.
      await almanach(t, await t.token('service')).createInstance('p1', 'i1', '2025-03-01T00:00:00Z', '2');
      const file = join(dir, 'flavors.json');
      writeFileSync(file, JSON.stringify(OPENSTACK_FLAVORS, null, 2));
      const res = await cli(['flavors', 'import', file, ...connection()]);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^name\s+action\s+vcpus\s+ram_mb\s+disk_gb\s+gpus\s+aliases$/m);
      expect(res.stdout).toMatch(/^g1\.large\s+created\s+16\s+65536\s+40\s+2\s+7d6e0bd6-3b8a-4d0e-9d7a-1f0c2b3a4e5d$/m);
      expect(res.stdout).toMatch(/^m1\.small\s+created\s+1\s+2048\s+20\s+0\s+2$/m);
      expect(res.stderr).toBe('3 created, 0 replaced, 0 unchanged, 0 failed\n');
      expect(await catalogue()).toEqual([
        expect.objectContaining({ name: 'g1.large', sized: true, aliases: ['7d6e0bd6-3b8a-4d0e-9d7a-1f0c2b3a4e5d'], vcpus: 16, ram_mb: 65536, disk_gb: 40, gpus: 2, description: '' }),
        expect.objectContaining({ name: 'm1.small', sized: true, aliases: ['2'], vcpus: 1, ram_mb: 2048, disk_gb: 1 * 20, gpus: 0 }),
        expect.objectContaining({ name: 'm1.tiny', sized: true, aliases: ['1'], vcpus: 1, ram_mb: 512, disk_gb: 1 }),
      ]);

      const again = await cli(['flavors', 'import', file, '--json', ...connection()]);
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(again.stdout).results.map((r: { action: string }) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    });

    it('replaces what changed, keeps the description and aliases the file does not give, counts Ephemeral with --add-ephemeral, reads stdin', async () => {
      await t.http.put('/admin/reports/flavors/g1.large').set('X-Auth-Token', ADMIN_TOKEN).send({ vcpus: 8, ram_mb: 1, disk_gb: 1, aliases: ['gpu-large'], description: 'A100 nodes' }).expect(201);
      const res = await cli(['flavors', 'import', '-', '--add-ephemeral', '--format', 'json', ...connection()], { stdin: JSON.stringify([OPENSTACK_FLAVORS[2]]) });
      expect(res).toMatchObject({ code: 0, stderr: '0 created, 1 replaced, 0 unchanged, 0 failed\n' });
      expect(await catalogue()).toEqual([
        expect.objectContaining({ name: 'g1.large', aliases: ['7d6e0bd6-3b8a-4d0e-9d7a-1f0c2b3a4e5d', 'gpu-large'], vcpus: 16, ram_mb: 65536, disk_gb: 140, gpus: 2, description: 'A100 nodes' }),
      ]);
    });

    it('imports a CSV (the openstack -f csv form and the catalogue form); --dry-run writes nothing', async () => {
      const csv = join(dir, 'flavors.csv');
      writeFileSync(csv, '"ID","Name","RAM","Disk","Ephemeral","VCPUs","Is Public","Swap","RXTX Factor","Properties"\r\n"2","m1.small",2048,20,0,1,True,0,1.0,""\r\n');
      const dry = await cli(['flavors', 'import', csv, '--dry-run', ...connection()]);
      expect(dry).toMatchObject({ code: 0, stderr: 'dry run: 1 to create, 0 to replace, 0 unchanged; nothing written\n' });
      expect(dry.stdout).toMatch(/^m1\.small\s+would create\s+1\s+2048\s+20\s+0\s+2$/m);
      expect(await catalogue()).toEqual([]);
      expect(await cli(['flavors', 'import', csv, ...connection()])).toMatchObject({ code: 0 });
      const own = join(dir, 'own.txt');
      writeFileSync(own, 'name,vcpus,ram_mb,disk_gb,gpus,aliases,description\nm1.small,2,4096,20,0,small;2,"2 vCPU, 4 GB"\n');
      expect(await cli(['flavors', 'import', own, '--format', 'csv', ...connection()])).toMatchObject({ code: 0, stderr: '0 created, 1 replaced, 0 unchanged, 0 failed\n' });
      expect(await catalogue()).toEqual([expect.objectContaining({ name: 'm1.small', aliases: ['2', 'small'], vcpus: 2, ram_mb: 4096, description: '2 vCPU, 4 GB' })]);
    });

    it('exits 2 on a bad file and writes nothing from it', async () => {
      const write = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const cases: [string, RegExp][] = [
        [join(dir, 'missing.json'), /cannot read .*missing\.json: ENOENT/],
        [write('broken.json', '[{"Name": "m1"'), /broken\.json: nothing imported:\nnot JSON/],
        [write('object.json', '{"Name": "m1"}'), /must be a list of flavors/],
        [write('fields.json', JSON.stringify([OPENSTACK_FLAVORS[0], { Name: 'bad', VCPUs: 'two', RAM: 1, Disk: -1 }])), /entry 2 \(bad\): VCPUs must be a whole number[^\n]*\nentry 2 \(bad\): Disk must be/],
        [write('short.csv', 'Name,VCPUs,RAM,Disk\nm1,1,2\n'), /row 2: 3 fields where the header has 4/],
        [write('quote.csv', 'Name,VCPUs,RAM,Disk\n"m1,1,2,3\n'), /not CSV: line 2: Quote Not Closed/],
      ];
      for (const [file, message] of cases) {
        const res = await cli(['flavors', 'import', file, ...connection()]);
        expect({ file, code: res.code, stdout: res.stdout }).toEqual({ file, code: 2, stdout: '' });
        expect(res.stderr).toMatch(message);
      }
      expect(await catalogue()).toEqual([]);
    });

    it('exits 2 when the server refuses an entry (409: an alias another entry holds), naming it; the other entries are imported', async () => {
      await t.http.put('/admin/reports/flavors/legacy').set('X-Auth-Token', ADMIN_TOKEN).send({ vcpus: 1, ram_mb: 512, disk_gb: 1, aliases: ['1'] }).expect(201);
      const res = await cli(['flavors', 'import', '-', '--json', ...connection()], { stdin: JSON.stringify(OPENSTACK_FLAVORS.slice(0, 2)) });
      expect(res.code).toBe(2);
      const body = JSON.parse(res.stdout);
      expect(body.results).toEqual([
        expect.objectContaining({ name: 'm1.tiny', action: 'failed', error: expect.stringMatching(/^PUT \/admin\/reports\/flavors\/m1\.tiny: 409 /) }),
        expect.objectContaining({ name: 'm1.small', action: 'created' }),
      ]);
      expect(res.stderr).toMatch(/^usage-ledger: m1\.tiny: PUT \/admin\/reports\/flavors\/m1\.tiny: 409 .+\nusage-ledger: 1 of 2 flavors were not imported\n$/);
      expect((await catalogue()).map((f) => f.name)).toEqual(['legacy', 'm1.small']);
    });

    it('exits 2 for a caller that is not admin (403), with nothing written', async () => {
      const reader = await t.token('reader');
      const res = await cli(['flavors', 'import', '-', '--url', url, '--token', reader], { stdin: JSON.stringify(OPENSTACK_FLAVORS) });
      expect(res).toMatchObject({ code: 2, stderr: expect.stringMatching(/PUT \/admin\/reports\/flavors\/m1\.tiny: 403 /) });
      expect(await catalogue()).toEqual([]);
    });
  });

  describe('reports export', () => {
    async function seed() {
      const a = almanach(t, await t.token('service'));
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.small');
      await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
      await a.createInstance('p2', 'i2', '2025-03-05T06:00:00Z', 'a,"quoted"');
      await a.deleteInstance('i2', '2025-03-06T00:00:00Z');
      await drainRollups(t);
    }
    const served = async (path: string) => (await admin.get(path).buffer(true).expect(200)).text;

    it('writes the CSV the service streams, under its file name by default, and says how many rows', async () => {
      await seed();
      const res = await cli(['reports', 'export', 'usage', '--period', '2025-03', '--group-by', 'project_id,flavor', ...connection()], { cwd: dir });
      expect(res).toEqual({ code: 0, stdout: 'wrote usage-2025-03.csv: 2 rows, ' + Buffer.byteLength(await served('/reports/usage?period=2025-03&group_by=project_id,flavor&format=csv')) + ' bytes\n', stderr: '' });
      expect(readFileSync(join(dir, 'usage-2025-03.csv'), 'utf8')).toBe(await served('/reports/usage?period=2025-03&group_by=project_id,flavor&format=csv'));

      const out = join(dir, 'lines.csv');
      const entities = await cli(['reports', 'export', 'entities', '--start', '2025-03-01T00:00:00Z', '--end', '2025-04-01T00:00:00Z', '--project', 'p2', '--bom', '-o', out, '--json', ...connection()]);
      expect(entities).toMatchObject({ code: 0, stderr: '' });
      const expected = await served('/reports/usage/entities?start=2025-03-01T00:00:00Z&end=2025-04-01T00:00:00Z&project_id=p2&bom=1&format=csv');
      expect(JSON.parse(entities.stdout)).toEqual({ file: out, bytes: Buffer.byteLength(expected), rows: 1 });
      expect(readFileSync(out, 'utf8')).toBe(expected);
      expect(expected.startsWith('\ufeff')).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['lines.csv', 'usage-2025-03.csv']);
    });

    it('refuses to replace a file without --force, and replaces it with it; --param passes any parameter', async () => {
      await seed();
      const out = join(dir, 'usage.csv');
      writeFileSync(out, 'old');
      const refused = await cli(['reports', 'export', 'usage', '--period', '2025-03', '-o', out, ...connection()]);
      expect(refused).toEqual({ code: 2, stdout: '', stderr: `usage-ledger: ${out} exists: choose another --out, or --force to replace it\n` });
      expect(readFileSync(out, 'utf8')).toBe('old');
      const forced = await cli(['reports', 'export', 'usage', '--period', '2025-03', '--param', 'granularity=day', '--param', 'meter=instance.time', '-o', out, '--force', ...connection()]);
      expect(forced.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(await served('/reports/usage?period=2025-03&granularity=day&meter=instance.time&format=csv'));
    });

    it('exits 2 with the server\'s message on a 4xx, or when the file cannot be written, and leaves no file', async () => {
      const bad = await cli(['reports', 'export', 'usage', '--period', '2025-13', ...connection()], { cwd: dir });
      expect(bad).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^usage-ledger: GET \/reports\/usage: 400 \S/) });
      const unknown = await cli(['reports', 'export', 'entities', '--period', '2025-03', '--granularity', 'day', ...connection()], { cwd: dir });
      expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/^usage-ledger: GET \/reports\/usage\/entities: 400 .*granularity/) });
      const user = await t.token('user', { projectIds: ['p2'] });
      const foreign = await cli(['reports', 'export', 'usage', '--period', '2025-03', '--project', 'p1', '--url', url, '--token', user], { cwd: dir });
      expect(foreign).toMatchObject({ code: 2, stderr: expect.stringMatching(/^usage-ledger: GET \/reports\/usage: 403 /) });
      expect(readdirSync(dir)).toEqual([]);
      const nowhere = join(dir, 'no', 'such', 'usage.csv');
      expect(await cli(['reports', 'export', 'usage', '--period', '2025-03', '-o', nowhere, ...connection()])).toEqual({ code: 2, stdout: '', stderr: `usage-ledger: cannot write ${nowhere}: ENOENT\n` });
    });

    it.each([
      [['reports', 'export', 'usage'], /a window is required: --period, or --start and --end/],
      [['reports', 'export', 'usage', '--start', '2025-03-01'], /a window is required/],
      [['reports', 'export', 'invoices', '--period', '2025-03'], /'invoices' is invalid for argument 'report'\. Allowed choices are usage, entities/],
      [['reports', 'export', 'usage', '--period', '2025-03', '--param', 'novalue'], /--param.*must be name=value/],
    ])('exits 2 on a bad argument: %j', async (args, message) => {
      const res = await cli([...args, ...connection()], { cwd: dir });
      expect(res).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
      expect(readdirSync(dir)).toEqual([]);
    });

    describe('a transfer the service aborts', () => {
      // The service aborts the connection when it fails after the header
      // (reports.md 1.7); a stand-in does it on cue, after some rows.
      let server: Server;
      let stand: string;
      beforeAll(async () => {
        server = createServer((req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="usage-2025-03.csv"' });
          res.write('period_start,period_end\r\n');
          res.write('2025-03-01,2025-04-01\r\n');
          if (req.url?.includes('complete')) res.end();
          else if (!req.url?.includes('slow')) setTimeout(() => res.socket?.destroy(), 300);
          // slow: the body stays open until the client goes.
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        stand = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(() => {
        server.closeAllConnections();
        return new Promise((r) => server.close(r));
      });

      it('is an error, and no file is left, neither the target nor a partial one', async () => {
        const res = await cli(['reports', 'export', 'usage', '--period', '2025-03', '--url', stand, '--token', ADMIN_TOKEN], { cwd: dir });
        expect(res).toMatchObject({ code: 2, stdout: '' });
        expect(res.stderr).toMatch(/^usage-ledger: the transfer broke off after \d+ B \(.+\): the service aborted the export or the connection was lost; no file written\n$/);
        expect(readdirSync(dir)).toEqual([]);
        // An existing file of that name is left as it was.
        writeFileSync(join(dir, 'kept.csv'), 'kept');
        expect((await cli(['reports', 'export', 'usage', '--period', '2025-03', '-o', join(dir, 'kept.csv'), '--force', '--url', stand, '--token', ADMIN_TOKEN])).code).toBe(2);
        expect(readdirSync(dir)).toEqual(['kept.csv']);
        expect(readFileSync(join(dir, 'kept.csv'), 'utf8')).toBe('kept');
        // The same stand-in ending its body properly is a file.
        const whole = await cli(['reports', 'export', 'usage', '--period', '2025-03', '--param', 'complete=1', '--url', stand, '--token', ADMIN_TOKEN], { cwd: dir });
        expect(whole).toMatchObject({ code: 0, stdout: 'wrote usage-2025-03.csv: 1 rows, 48 bytes\n' });
      });

      it.each([
        ['SIGINT', 130],
        ['SIGTERM', 143],
      ] as const)('interrupted by %s, it removes the partial file and exits %i', async (signal, status) => {
        const child = spawn(process.execPath, [CLI, 'reports', 'export', 'usage', '--period', '2025-03', '--param', 'slow=1', '--url', stand, '--token', ADMIN_TOKEN], {
          env: { PATH: process.env.PATH ?? '' },
          cwd: dir,
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
        const closed = new Promise<number | null>((r) => child.on('close', r));
        // Wait until the rows have reached the temporary file.
        const deadline = Date.now() + 20_000;
        while (!readdirSync(dir).some((f) => f.endsWith('.part') && readFileSync(join(dir, f), 'utf8').length === 48)) {
          if (Date.now() > deadline) throw new Error(`no partial file: ${JSON.stringify(readdirSync(dir))} ${stderr}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        child.kill(signal);
        expect(await closed).toBe(status);
        expect(stderr).toBe(`usage-ledger: interrupted (${signal}): no file written\n`);
        expect(readdirSync(dir)).toEqual([]);
      });
    });
  });

  describe('every command', () => {
    const commands: string[][] = [
      ['tokens', 'create', '--name', 'x', '--role', 'reader'],
      ['tokens', 'list'],
      ['tokens', 'revoke', '6f1c3c1e-0f5e-4c1e-9a51-2f1f0f4d3b10'],
      ['sites', 'create', 'site-x'],
      ['sites', 'list'],
      ['sites', 'rotate', 'site-x'],
      ['flavors', 'import', '-'],
      ['reports', 'export', 'usage', '--period', '2025-03'],
    ];

    it.each(commands)('exits 2 when the service cannot be reached, and without a token: %s %s', async (...args) => {
      const port = await freePort();
      const stdin = JSON.stringify(OPENSTACK_FLAVORS);
      const down = await cli([...args, '--url', `http://127.0.0.1:${port}`, '--token', ADMIN_TOKEN], { cwd: dir, stdin });
      expect(down).toEqual({ code: 2, stdout: '', stderr: `usage-ledger: cannot reach the service at http://127.0.0.1:${port}: ECONNREFUSED\n` });
      const noToken = await cli([...args, '--url', url], { cwd: dir, stdin });
      expect(noToken).toEqual({ code: 2, stdout: '', stderr: 'usage-ledger: --token (or LEDGER_TOKEN) is required: an admin token\n' });
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});
