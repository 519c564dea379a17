import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { createSite, SiteCredentials, waitLoaded } from '../support/amie';
import { almanach, drainRollups } from '../support/reports';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, startTestApp, TestApp } from '../support/test-app';
import { parseCsv } from '../support/csv';
import { seedBudget } from '../support/budgets';

/**
 * The dashboard in headless Chromium (reports.md 8.3): Debian's `chromium`
 * driven by playwright-core (no browser download), against the service
 * listening on localhost with a database seeded through the protocol routes
 * (Almanach, AMIE) with figures known in advance, in Europe/Berlin so March
 * 2025 holds the 23-hour day. Screenshots go to test-results/ (git-ignored),
 * and so do the measured timings (test-results/dashboard-timings.json): the
 * "speed" figures of 8.3 are for the note, not timed assertions.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = resolve(__dirname, '../../test-results');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`dashboard-browser: skipped, no Chromium at ${CHROMIUM} (install Debian's chromium package; .ci/run does)`);

const maybe = haveChromium ? describe : describe.skip;

type Row = Record<string, any>;
// The callbacks of page.evaluate run in the browser; the project compiles without the DOM library.
declare const document: any;
declare const location: any;
declare const sessionStorage: any;
declare const localStorage: any;
const USAGE_PANELS = [
  { id: 'usage-instance', meter: 'instance.time', hours: true },
  { id: 'usage-vcpu', meter: 'instance.vcpu', hours: true },
  { id: 'usage-volume', meter: 'volume.size', hours: true },
  { id: 'usage-amie', meter: 'amie.charge', hours: false },
];
/** dashboard.js's PALETTE, as RGB: a bar is a pixel of one of these colours. */
const PALETTE = ['#3b6ea5', '#e07b39', '#4f9d69', '#c4453c', '#8064a2'].map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

jest.setTimeout(240_000);

maybe('dashboard in headless Chromium (reports.md 8.3)', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let reader: string;
  let user: string;
  let service: string;
  let site: SiteCredentials;
  /** What test-results/dashboard-timings.json holds (written after the suite, whatever its outcome). */
  const timings = {
    page_load_ms: [] as { hash: string; ms: number }[],
    time_to_interactive_ms: {} as Record<string, number>,
    data_calls: [] as { call: string; status: number; in_page_concurrent_ms: number; alone_ms?: number }[],
  };

  beforeAll(async () => {
    // SOURCE_SILENCE_SECONDS: the AMIE site falls silent a second after the seed (the banner's check).
    t = await startTestApp({ REPORT_TIME_ZONE: 'Europe/Berlin', REPORT_CURRENCY: 'EUR', SOURCE_SILENCE_SECONDS: 'amie=1' });
    // A shared database (DATABASE_URL) holds the earlier suites' projects: the seeded figures must be all there is.
    await t.reset();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    await seed();
    reader = await t.token('reader', { name: 'billing' });
    service = await t.token('service', { name: 'scheduler' });
    user = await t.token('user', { name: 'alice', userId: 'alice', projectIds: ['p-alpha', 'p-beta'] });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    mkdirSync(RESULTS, { recursive: true });
  }, APP_START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    writeFileSync(join(RESULTS, 'dashboard-timings.json'), `${JSON.stringify({
      about: 'reports.md 8.3 "speed": figures for the note, not assertions; seeded March 2025 data, this machine, milliseconds',
      database: process.env.DATABASE_URL ? 'postgres' : 'embedded',
      measured_at: new Date().toISOString(),
      what: {
        page_load_ms: 'navigation to the load event (HTML, script, style, uPlot), each page the suite opens, in order',
        time_to_interactive_ms: 'token typed → every panel drawn (body data-state="ready"), per role, on the seeded month',
        data_calls: 'each /reports/… call of the reader page on the seeded month: as the browser saw it (all at once) and alone, warm, from the test',
      },
      ...timings,
    }, null, 2)}\n`);
  });

  /** Known figures of March 2025 in Berlin, written through Almanach and AMIE as production would. */
  async function seed() {
    const admin = (method: 'put', url: string, body: Row) => t.http[method](url).set('X-Auth-Token', ADMIN_TOKEN).send(body);
    expect((await admin('put', '/admin/reports/flavors/m1.small', { vcpus: 1, ram_mb: 2048, disk_gb: 20 })).status).toBe(201);
    expect((await admin('put', '/admin/reports/flavors/m1.large', { vcpus: 4, ram_mb: 8192, disk_gb: 80 })).status).toBe(201);
    const nova = await t.token('service', { name: 'nova' });
    const a = almanach(t, nova);
    for (const type of ['ssd', 'hdd']) await t.http.post('/v1/volume_type').set('X-Auth-Token', nova).send({ type_id: type, type_name: type }).expect(201);
    // p-alpha: one m1.small running through the whole month (743 h, the 30th 23 h); a 10 GB ssd volume for 48 h.
    await a.createInstance('p-alpha', 'i-run', '2025-02-20T00:00:00Z', 'm1.small');
    await a.deleteInstance('i-run', '2025-04-05T00:00:00Z');
    await a.createVolume('p-alpha', 'v-ssd', '2025-02-28T23:00:00Z', 10, 'ssd');
    await a.deleteVolume('v-ssd', '2025-03-02T23:00:00Z');
    // p-beta: m1.large 48 h, m1.small 24 h, a 100 GB hdd volume for 24 h.
    await a.createInstance('p-beta', 'i-big', '2025-03-10T00:00:00Z', 'm1.large');
    await a.deleteInstance('i-big', '2025-03-12T00:00:00Z');
    await a.createInstance('p-beta', 'i-b', '2025-03-15T11:00:00Z', 'm1.small');
    await a.deleteInstance('i-b', '2025-03-16T11:00:00Z');
    await a.createVolume('p-beta', 'v-hdd', '2025-03-20T00:00:00Z', 100, 'hdd');
    await a.deleteVolume('v-hdd', '2025-03-21T00:00:00Z');
    // p-gamma: 10 h of m1.small, a project the user token does not hold.
    await a.createInstance('p-gamma', 'i-g', '2025-03-05T08:00:00Z', 'm1.small');
    await a.deleteInstance('i-g', '2025-03-05T18:00:00Z');
    // AMIE: 12.5 + 7.25 of compute on cluster-a for p-alpha, 100 of storage on store-a for p-beta; one failed record.
    t.app.get(JobQueueService).startWorker();
    site = await createSite(t, 'hpc');
    const post = (usageType: string, records: Row[]) => t.http.post('/amie/usage/').set(site.headers).send({ UsageType: usageType, Records: records }).expect(200);
    const compute = (id: string, end: string, charge: string) => ({
      Username: 'jdoe', LocalProjectID: 'p-alpha', LocalRecordID: id, Resource: 'cluster-a',
      SubmitTime: '2025-03-18T08:00:00Z', StartTime: '2025-03-18T09:00:00Z', EndTime: end, Charge: charge, Attributes: { NodeCount: 1, CpuCoreCount: 8 },
    });
    await post('Compute', [compute('job-1', '2025-03-18T12:00:00Z', '12.5'), compute('job-2', '2025-03-19T12:00:00Z', '7.25'), { ...compute('job-bad', '2025-03-19T12:00:00Z', '1'), Charge: undefined }]);
    await post('Storage', [{ Username: 'jdoe', LocalProjectID: 'p-beta', LocalRecordID: 'st-1', Resource: 'store-a', CollectionTime: '2025-03-21T00:00:00Z', Charge: '100', Attributes: {} }]);
    await waitLoaded(t);
    await drainRollups(t);
  }

  interface Session {
    context: BrowserContext;
    page: Page;
    requests: Request[];
    consoleErrors: { text: string; url: string }[];
    failed: string[];
    documentHeaders: Record<string, string>;
    close(): Promise<void>;
  }

  async function open(hash = '', options: { clock?: boolean } = {}): Promise<Session> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York' });
    const page = await context.newPage();
    const session: Session = { context, page, requests: [], consoleErrors: [], failed: [], documentHeaders: {}, close: () => context.close() };
    page.on('request', (request) => session.requests.push(request));
    page.on('console', (message) => {
      if (message.type() === 'error') session.consoleErrors.push({ text: message.text(), url: message.location().url });
    });
    page.on('pageerror', (error) => session.consoleErrors.push({ text: `page error: ${error.message}`, url: '' }));
    page.on('requestfailed', (request) => session.failed.push(`${request.url()} ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) session.failed.push(`${response.url()} ${response.status()}`);
    });
    if (options.clock) await context.clock.install();
    const started = Date.now();
    const response = await page.goto(`${base}/dashboard${hash}`, { waitUntil: 'load' });
    timings.page_load_ms.push({ hash, ms: Date.now() - started });
    session.documentHeaders = response!.headers();
    return session;
  }

  /** Types the token and waits until every panel has its figures; returns the time to interactive. */
  async function signIn(session: Session, token: string, expect: 'ready' | 'error' = 'ready'): Promise<number> {
    const started = Date.now();
    await session.page.fill('#token', token);
    await session.page.click('#token-use');
    await session.page.waitForSelector(`body[data-state="${expect}"]`, { timeout: 60_000 });
    return Date.now() - started;
  }

  async function panelsSettled(page: Page) {
    await page.waitForFunction(() => document.querySelectorAll('.panel').length > 0 && !document.querySelector('.panel[data-state="loading"]'), undefined, { timeout: 60_000 });
  }

  const reportCalls = (session: Session) => session.requests.map((r) => r.url()).filter((url) => new URL(url).pathname.startsWith('/reports/'));
  const opsCall = (url: string) => /\/reports\/(ops\/|amie\/failures)/.test(new URL(url).pathname);

  async function fetchAnswer(href: string, token: string): Promise<Row> {
    const res = await fetch(`${base}${href}`, { headers: { 'X-Auth-Token': token } });
    expect(res.status).toBe(200);
    return (await res.json()) as Row;
  }

  /** A "CSV" link fetched as a script would (the token in X-Auth-Token): 200 text/csv, its records keyed by the header. */
  async function fetchCsv(href: string, token: string): Promise<Row[]> {
    const res = await fetch(`${base}${href}`, { headers: { 'X-Auth-Token': token } });
    const text = await res.text();
    expect({ status: res.status, type: res.headers.get('content-type'), text: res.status === 200 ? '' : text }).toEqual({ status: 200, type: 'text/csv; charset=utf-8', text: '' });
    const [header, ...records] = parseCsv(text);
    return records.map((record) => Object.fromEntries(header.map((column, i) => [column, record[i]])));
  }

  /** The page's generation (body data-generation): each reload of the panels makes a new one. */
  const generationOf = (page: Page) => page.evaluate(() => Number(document.body.getAttribute('data-generation') ?? 0));

  /** Runs `action`, waits until the page has started a new generation of its panels, then until every panel has settled. */
  async function reloaded(page: Page, action: () => Promise<unknown>, timeout = 60_000) {
    const before = await generationOf(page);
    await action();
    await page.waitForFunction((g) => Number(document.body.getAttribute('data-generation') ?? 0) > g, before, { timeout });
    await page.waitForFunction(() => !document.querySelector('.panel[data-state="loading"]'), undefined, { timeout });
  }

  async function setHash(page: Page, hash: string, timeout = 60_000) {
    if (await page.evaluate(() => location.hash) === hash) return panelsSettled(page);
    await reloaded(page, () => page.evaluate((h) => { location.hash = h; }, hash), timeout);
  }

  /** The table view of a panel: each body row's cells, numbers by their exact data-value. */
  async function tableOf(page: Page, panel: string): Promise<{ body: string[][]; foot: string[][] }> {
    return page.$eval(`#panel-${panel}`, (section) => {
      const read = (rows: any): string[][] =>
        Array.from(rows as ArrayLike<any>).map((tr: any) => Array.from(tr.cells as ArrayLike<any>).map((td: any) => (td.hasAttribute('data-value') ? `=${td.getAttribute('data-value')}` : (td.textContent ?? ''))));
      return { body: read(section.querySelectorAll('.table-holder tbody tr')), foot: read(section.querySelectorAll('.table-holder tfoot tr')) };
    });
  }

  async function dataHref(page: Page, panel: string, n = 0): Promise<string> {
    const hrefs = await page.$$eval(`#panel-${panel} a.data-link`, (links) => links.map((a) => a.getAttribute('href')!));
    return hrefs[n];
  }

  /** Pixels of the palette's colours on a panel's canvas, sampled on a grid. */
  async function barPixels(page: Page, panel: string): Promise<number> {
    return page.$eval(`#panel-${panel} canvas`, (canvas, palette) => {
      const c = canvas as any;
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      let hits = 0;
      for (let i = 0; i < data.length; i += 4 * 3) {
        if (data[i + 3] < 200) continue;
        if ((palette as number[][]).some(([r, g, b]) => Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8)) hits++;
      }
      return hits;
    }, PALETTE);
  }

  it('loads cleanly: no console error, no failed request, everything same-origin, the CSP header', async () => {
    // The seeded month, so the timings below are those of a page with figures.
    const s = await open('#month=2025-03&granularity=day');
    try {
      await signIn(s, reader);
      await panelsSettled(s.page);
      expect(s.documentHeaders['content-security-policy']).toMatch(/default-src 'self'/);
      const foreign = s.requests.map((r) => r.url()).filter((url) => new URL(url).origin !== base);
      expect(foreign).toEqual([]);
      expect(s.failed).toEqual([]);
      expect(s.consoleErrors).toEqual([]);
      expect([...new Set(s.requests.map((r) => new URL(r.url()).pathname).filter((path) => opsCall(`${base}${path}`)))].sort()).toEqual(['/reports/amie/failures', '/reports/ops/freshness', '/reports/ops/queues']);
      // The data calls: as the browser saw them (all at once, so each waits for the others on a
      // small machine and on embedded PGlite's one connection), then each alone, warm, from here.
      const calls = s.requests.filter((r) => new URL(r.url()).pathname.startsWith('/reports/'));
      expect(calls.some((r) => r.url().includes('period=2025-03'))).toBe(true);
      for (const request of calls) {
        const url = new URL(request.url());
        const status = (await request.response())!.status();
        const entry: (typeof timings.data_calls)[number] = { call: `${url.pathname}${url.search}`, status, in_page_concurrent_ms: Math.round(request.timing().responseEnd) };
        timings.data_calls.push(entry);
        const started = performance.now();
        const res = await fetch(request.url(), { headers: { 'X-Auth-Token': reader } });
        await res.arrayBuffer();
        entry.alone_ms = Math.round(performance.now() - started);
      }
    } finally {
      await s.close();
    }
  });

  it('token flow: a reader token shows every panel, kept in sessionStorage only, never in a URL; a bad token shows the 401 message', async () => {
    const s = await open();
    try {
      await signIn(s, reader);
      await panelsSettled(s.page);
      const panels = await s.page.$$eval('.panel', (nodes) => nodes.map((n) => n.getAttribute('data-panel')));
      expect(panels).toEqual(expect.arrayContaining(['usage-instance', 'usage-vcpu', 'usage-volume', 'usage-amie', 'cost', 'ops-freshness', 'ops-queues', 'ops-failures']));
      expect(await s.page.textContent('#role')).toBe('reader');
      expect(await s.page.textContent('#zone')).toBe('Europe/Berlin');
      expect(await s.page.getAttribute('#project-list', 'data-count')).toBe('3');
      expect(await s.page.evaluate(() => ({ session: sessionStorage.getItem('usage-ledger.token'), local: localStorage.length, cookie: document.cookie }))).toEqual({ session: reader, local: 0, cookie: '' });
      expect(await s.page.inputValue('#token')).toBe('');
      for (const request of s.requests) {
        expect(request.url()).not.toContain(reader);
        expect(request.headers()['referer'] ?? '').not.toContain(reader);
      }
      const sent = s.requests.filter((r) => new URL(r.url()).pathname.startsWith('/reports/'));
      expect(sent.length).toBeGreaterThan(4);
      for (const request of sent) expect(request.headers()['x-auth-token']).toBe(reader);
    } finally {
      await s.close();
    }
    const bad = await open();
    try {
      await signIn(bad, 'not-a-token-at-all', 'error');
      expect(await bad.page.textContent('#message')).toMatch(/token was refused \(401/);
      expect(await bad.page.isHidden('#panels')).toBe(true);
      expect(await bad.page.evaluate(() => sessionStorage.getItem('usage-ledger.token'))).toBeNull();
      for (const request of bad.requests) expect(request.url()).not.toContain('not-a-token-at-all');
    } finally {
      await bad.close();
    }
  });

  it('charts are drawn and each table view equals, value for value, the answer of its "data" link; the CSV link is the same query', async () => {
    const s = await open();
    try {
      await signIn(s, reader);
      await setHash(s.page, '#month=2025-03&granularity=day');
      for (const panel of USAGE_PANELS) {
        expect(await barPixels(s.page, panel.id)).toBeGreaterThan(20);
        const href = await dataHref(s.page, panel.id);
        expect(href).toContain(`meter=${encodeURIComponent(panel.meter)}`);
        expect(href).toContain('granularity=day');
        expect(href).toContain('group_by=key%2Csubkey');
        const csv = (await s.page.$eval(`#panel-${panel.id} a.csv-link`, (a) => a.getAttribute('href')))!;
        expect(sameQueryAsCsv(href, csv)).toBe(true);
        const answer = await fetchAnswer(href, reader);
        expect(answer.complete).toBe(true);
        const value = (r: Row) => (panel.hours ? r.quantity_hours : r.quantity);
        const table = await tableOf(s.page, panel.id);
        expect(table.body).toEqual(answer.rows.map((r: Row) => [r.period, r.key, r.subkey, r.line_type, `=${value(r)}`]));
        const total = answer.totals.by_meter.find((m: Row) => m.meter === panel.meter);
        expect(table.foot).toEqual([['total', '', '', '', `=${panel.hours ? total.quantity_hours : total.quantity}`]]);
        // The CSV link, fetched as a script would, holds the table's rows (CSV fields: '' for null).
        const records = await fetchCsv(csv, reader);
        expect(records.map((r) => [r.period, r.key, r.subkey, r.line_type, `=${value(r)}`])).toEqual(table.body.map((row) => row.map((c) => c ?? '')));
      }
      // The cost panel's CSV links: the totals name the table's projects, the series holds the table's cells.
      const costLinks = await s.page.$$eval('#panel-cost .links a', (links) => links.map((a) => ({ kind: a.className, text: a.textContent, href: a.getAttribute('href')! })));
      const costCsv = costLinks.filter((l) => l.kind === 'csv-link');
      expect(costCsv.map((l) => l.text)).toEqual(['CSV totals', 'CSV series']);
      for (const link of costCsv) expect(sameQueryAsCsv(costLinks[costLinks.indexOf(link) - 1].href, link.href)).toBe(true);
      const cost = await tableOf(s.page, 'cost');
      const totalsCsv = await fetchCsv(costCsv[0].href, reader);
      expect([...new Set(totalsCsv.map((r) => r.project_id))].sort()).toEqual([...new Set(cost.body.map((r) => r[1]))].sort());
      const cells = new Map<string, Row[]>();
      for (const r of await fetchCsv(costCsv[1].href, reader)) cells.set(`${r.period} ${r.project_id}`, [...(cells.get(`${r.period} ${r.project_id}`) ?? []), r]);
      expect([...cells.keys()].sort()).toEqual(cost.body.map((r) => `${r[0]} ${r[1]}`).sort());
      for (const row of cost.body) {
        const parts = cells.get(`${row[0]} ${row[1]}`)!;
        expect(parts.some((r) => r.priced === 'false' || r.cost === '') ? 'unpriced' : `=${sumDecimals(parts.map((r) => r.cost))}`).toBe(row[2]);
      }
      const status = await s.page.textContent('#panel-usage-instance .status');
      expect(status).toMatch(/^complete as of/);
    } finally {
      await s.close();
    }
  });

  it('usage and cost: the seeded month shows the known instance-hours per flavor, GB-hours per type, AMIE charges per resource, and cost as unpriced, never zero', async () => {
    const s = await open();
    try {
      await signIn(s, reader);
      // Monthly buckets: March 2025 is one row per key.
      await setHash(s.page, '#month=2025-03&granularity=month');
      const march = async (panel: string) =>
        Object.fromEntries((await tableOf(s.page, panel)).body.filter((r) => r[0] === '2025-03').map((r) => [r[2] ? `${r[1]} / ${r[2]}` : r[1], r[4].slice(1)]));
      expect(await march('usage-instance')).toEqual({ 'm1.large': '48.000000', 'm1.small': '777.000000' });
      expect(await march('usage-vcpu')).toEqual({ 'm1.large': '192.000000', 'm1.small': '777.000000' });
      expect(await march('usage-volume')).toEqual({ hdd: '2400.000000', ssd: '480.000000' });
      expect(await march('usage-amie')).toEqual({ 'cluster-a / compute': '19.75', 'store-a / storage': '100' });
      // The display is formatted from the decimal string.
      expect(await s.page.$eval('#panel-usage-volume tbody tr:last-child td:last-child', (td) => td.textContent)).toBe('480.00');
      // Rating is not built: with REPORT_CURRENCY every cost is unpriced, shown as such, never as 0.
      const cost = await tableOf(s.page, 'cost');
      expect(cost.body.length).toBeGreaterThan(0);
      for (const row of cost.body) expect(row[2]).toBe('unpriced');
      expect(cost.body.map((r) => r[1]).sort()).toEqual(expect.arrayContaining(['p-alpha', 'p-beta', 'p-gamma']));
      const warnings = await s.page.$$eval('#panel-cost .warnings li', (items) => items.map((li) => li.textContent));
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.join('\n')).toMatch(/Unpriced usage.*EUR/);
      const costText = await s.page.textContent('#panel-cost');
      expect(costText).not.toMatch(/(^|[^\d.])0\.00([^\d]|$)/);
      const totals = await fetchAnswer(await dataHref(s.page, 'cost', 0), reader);
      expect(totals.currency).toBe('EUR');
      expect(totals.totals.cost_complete).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('DST: in Europe/Berlin, March 2025 has 31 daily buckets, the 30th holds 23 hours of a running instance, the month total is 743 hours', async () => {
    const s = await open();
    try {
      await signIn(s, reader);
      await setHash(s.page, '#project=p-alpha&month=2025-03&granularity=day');
      const table = await tableOf(s.page, 'usage-instance');
      expect(table.body.map((r) => r[0])).toEqual(Array.from({ length: 31 }, (_x, i) => `2025-03-${String(i + 1).padStart(2, '0')}`));
      const hours = Object.fromEntries(table.body.map((r) => [r[0], r[4].slice(1)]));
      expect(hours['2025-03-30']).toBe('23.000000');
      expect(hours['2025-03-29']).toBe('24.000000');
      expect(table.foot).toEqual([['total', '', '', '', '=743.000000']]);
      // One bar per bucket: the axis labels are the local days.
      expect(await barPixels(s.page, 'usage-instance')).toBeGreaterThan(20);
      await s.page.screenshot({ path: join(RESULTS, 'dashboard-dst-berlin-2025-03.png'), fullPage: true });
    } finally {
      await s.close();
    }
  });

  it('user scoping: a user token lists only its projects, never asks for another project or an operations route, and a hash naming another project shows the 403 message', async () => {
    const s = await open();
    try {
      await signIn(s, user);
      await setHash(s.page, '#month=2025-03&granularity=day');
      expect(await s.page.textContent('#role')).toBe('user');
      expect(await s.page.getAttribute('#project-list', 'data-count')).toBe('2');
      expect(await s.page.$$eval('#f-project option', (options) => options.map((o) => (o as any).value))).toEqual(['', 'p-alpha', 'p-beta']);
      expect(await s.page.$$eval('.panel', (nodes) => nodes.map((n) => n.getAttribute('data-panel')))).not.toEqual(expect.arrayContaining([expect.stringMatching(/^ops-/)]));
      expect(await s.page.isHidden('#silent-banner')).toBe(true);
      // The cost table names only its projects.
      const cost = await tableOf(s.page, 'cost');
      expect(new Set(cost.body.map((r) => r[1]))).toEqual(new Set(['p-alpha', 'p-beta']));
      expect(reportCalls(s).filter((url) => url.includes('p-gamma'))).toEqual([]);
      // Editing the hash to a project the token does not hold.
      await setHash(s.page, '#project=p-gamma&month=2025-03&granularity=day');
      expect(await s.page.textContent('#message')).toMatch(/403/);
      expect(await s.page.$$eval('.panel', (nodes) => nodes.map((n) => n.getAttribute('data-status')))).toEqual(nodes403(6));
      expect(await s.page.$$eval('.panel .table-holder tbody tr', (rows) => rows.length)).toBe(0);
      expect(await s.page.$$eval('.panel canvas', (canvases) => canvases.length)).toBe(0);
      const calls = reportCalls(s);
      expect(calls.filter(opsCall)).toEqual([]);
      // Once the hash names it, the only requests for it are the refused ones.
      const gamma = calls.filter((url) => url.includes('p-gamma'));
      expect(gamma.length).toBeGreaterThan(0);
      const refused = s.failed.filter((f) => f.includes('p-gamma'));
      expect(refused.length).toBe(gamma.length);
      for (const f of refused) expect(f).toMatch(/ 403$/);
    } finally {
      await s.close();
    }
  });

  it('a full-page screenshot per role is kept with the test results (and its time to interactive measured, for the note)', async () => {
    for (const [role, token] of [['admin', ADMIN_TOKEN], ['reader', reader], ['service', service], ['user', user]] as const) {
      const s = await open('#month=2025-03&granularity=day');
      try {
        timings.time_to_interactive_ms[role] = await signIn(s, token);
        await panelsSettled(s.page);
        expect(await s.page.textContent('#role')).toBe(role);
        const path = join(RESULTS, `dashboard-${role}.png`);
        await s.page.screenshot({ path, fullPage: true });
        expect(statSync(path).size).toBeGreaterThan(10_000);
      } finally {
        await s.close();
      }
    }
  });

  it('complete: false is shown as "updating, n cells pending" until the rollups catch up', async () => {
    const a = almanach(t, service);
    await a.createInstance('p-beta', 'i-late', '2025-03-25T10:00:00Z', 'm1.small');
    await a.deleteInstance('i-late', '2025-03-25T12:00:00Z');
    const s = await open('#project=p-beta&month=2025-03&granularity=day');
    try {
      await signIn(s, reader);
      await panelsSettled(s.page);
      const answer = await fetchAnswer(await dataHref(s.page, 'usage-instance'), reader);
      expect(answer.complete).toBe(false);
      expect(await s.page.textContent('#panel-usage-instance .status')).toBe(`updating, ${answer.pending_cells} cells pending`);
      expect(answer.pending_cells).toBeGreaterThan(0);
    } finally {
      await s.close();
      await drainRollups(t);
    }
  });

  it('cost: the 10 costliest projects by exact cost, and "other" as the exact difference (priced answers served from fixtures: rating is not built yet)', async () => {
    const projects = Array.from({ length: 12 }, (_x, i) => `p${String(i + 1).padStart(2, '0')}`);
    const days = [['2025-03-01', '2025-02-28T23:00:00.000Z', '2025-03-01T23:00:00.000Z'], ['2025-03-02', '2025-03-01T23:00:00.000Z', '2025-03-02T23:00:00.000Z']];
    const row = (period: string, start: string, end: string, project: string | null, cost: string) => ({
      period_start: start, period_end: end, period, line_type: 'usage', applies_to_period: null, project_id: project, site: null, source: 'instance',
      meter: 'instance.time', key: null, subkey: null, unit: 's', quantity: '3600.000000', quantity_hours: '1.000000', unsized: false, unit_price: null, price_unit: null, cost, priced: true,
    });
    // Project i costs i.000001 on the 1st and 0.1 on the 2nd: p12 … p03 are the ten, other = p01 + p02.
    const dayCost = (i: number, d: number) => (d === 0 ? `${i}.000001` : '0.1');
    const answer = (rows: Row[], cost: string) => ({
      window: { start: '2025-02-28T23:00:00.000Z', end: '2025-03-31T22:00:00.000Z', tz: 'Europe/Berlin', period: '2025-03' }, as_of: new Date().toISOString(),
      complete: true, pending_cells: 0, lag_seconds: 0, granularity: 'day', group_by: ['project_id'], currency: 'EUR', rows,
      totals: { by_meter: [], cost, cost_complete: true }, next_cursor: null, warnings: [],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const costCalls: string[] = [];
    await page.route(`${base}/reports/usage?**`, (route) => {
      const url = new URL(route.request().url());
      const q = url.searchParams;
      if (q.has('meter')) return route.continue();
      costCalls.push(url.search);
      if (q.get('granularity') === 'total') {
        return route.fulfill({ json: answer(projects.map((p, i) => row('2025-03', '2025-02-28T23:00:00.000Z', '2025-03-31T22:00:00.000Z', p, `${i + 1}.100001`)), '79.200012') });
      }
      if (q.get('group_by') === 'project_id') {
        const asked = q.get('project_id')!.split(',');
        return route.fulfill({ json: answer(days.flatMap(([d, st, en], di) => asked.map((p) => row(d, st, en, p, dayCost(Number(p.slice(1)), di)))), '0') });
      }
      return route.fulfill({ json: answer([row(days[0][0], days[0][1], days[0][2], null, '78.000012'), row(days[1][0], days[1][1], days[1][2], null, '1.2')], '79.200012') });
    });
    try {
      await page.goto(`${base}/dashboard#month=2025-03&granularity=day&currency=EUR`);
      await page.fill('#token', reader);
      await page.click('#token-use');
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
      await panelsSettled(page);
      const top = projects.slice(2).reverse();
      expect(costCalls).toHaveLength(3);
      expect(new URL(`${base}/reports/usage${costCalls[1]}`).searchParams.get('project_id')).toBe(top.join(','));
      const table = await tableOf(page, 'cost');
      const cells = Object.fromEntries(table.body.map((r) => [`${r[0]} ${r[1]}`, r[2]]));
      expect(cells['2025-03-01 p12']).toBe('=12.000001');
      expect(cells['2025-03-01 other']).toBe('=3.000002');
      expect(cells['2025-03-02 other']).toBe('=0.2');
      expect(Object.keys(cells).filter((k) => /p0[12]$/.test(k))).toEqual([]);
      expect(table.foot).toEqual([['total', 'all projects', '=79.200012']]);
      expect(await barPixels(page, 'cost')).toBeGreaterThan(20);
      expect(await page.$$eval('#panel-cost a.data-link', (links) => links.map((a) => a.textContent))).toEqual(['data totals', 'data series', 'data all projects']);
    } finally {
      await context.close();
    }
  });

  it('operations panels render the §9.2 answer shapes (served here by the browser from fixtures), the silent-source banner above every chart, and refresh every 15 s (data every 60 s)', async () => {
    // The routes of the operations views are another change's (issue12-ops): this check holds the
    // page to the contract's shapes now, whatever the server answers; the two checks below use the real routes.
    const now = Date.now();
    const ago = (s: number) => new Date(now - s * 1000).toISOString();
    const fixtures: Record<string, Row> = {
      '/reports/ops/freshness': {
        sources: [
          { source: 'almanach', site: 'cloud', collector: 'nova', last_event_at: ago(30), age_seconds: 30, silent: false, threshold_seconds: 3600 },
          { source: 'amie', site: 'hpc', collector: 'hpc', last_event_at: ago(7260), age_seconds: 7260, silent: true, threshold_seconds: 3600 },
        ],
        rollup: { dirty_keys: 0, lag_seconds: 0, booked_horizon: '2026-11-29', day_roll_at: ago(600) },
      },
      '/reports/ops/queues': {
        queues: [{ queue: 'jobs', waiting: 3, active: 1, delayed: 0, failed: 2, oldest_waiting_age_seconds: 12 }],
        history: [0, 1, 2].map((i) => ({ at: ago(45 - i * 15), queue: 'jobs', waiting: 5 + i * 4, active: 1, delayed: i, failed: 2 })),
      },
      '/reports/amie/failures': {
        groups: [
          { site: 'hpc', resource: '', error: 'Resource: is required', usage_type: 'Storage', count: 1, oldest_failed_at: ago(900), newest_failed_at: ago(900) },
          { site: 'hpc', resource: 'cluster-a', error: 'Charge: is required', usage_type: 'Compute', count: 2, oldest_failed_at: ago(800), newest_failed_at: ago(700) },
        ],
        total: 3,
      },
    };
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const calls: string[] = [];
    page.on('request', (request) => calls.push(new URL(request.url()).pathname));
    await page.clock.install();
    // While `hold` is set, the operations answers wait for it: requests in flight, as on a slow server.
    let hold: { released: Promise<void>; release: () => void; held: number; onHeld: () => void } | null = null;
    const holdOps = (count: number) => {
      let release = () => {};
      const released = new Promise<void>((done) => (release = done));
      let reached = () => {};
      const heldAll = new Promise<void>((done) => (reached = done));
      const h = { released, release, held: 0, onHeld: () => { if (++h.held === count) reached(); } };
      hold = h;
      return { heldAll, release: () => { hold = null; h.release(); } };
    };
    for (const [path, body] of Object.entries(fixtures)) {
      await page.route(`${base}${path}**`, async (route) => {
        const h = hold;
        if (h) {
          h.onHeld();
          await h.released;
        }
        await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
      });
    }
    try {
      await page.goto(`${base}/dashboard#month=2025-03&granularity=day`);
      await page.fill('#token', reader);
      await page.click('#token-use');
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
      await panelsSettled(page);
      // The banner names the silent source, above every chart; the badge says so.
      expect(await page.isVisible('#silent-banner')).toBe(true);
      expect(await page.textContent('#silent-banner')).toMatch(/amie at hpc \(hpc\), last event 2 h 1 min ago, threshold 60 min/);
      expect((await page.locator('#silent-banner').boundingBox())!.y).toBeLessThan((await page.locator('.panel').first().boundingBox())!.y);
      expect(await page.textContent('#freshness-badge')).toBe('1 source silent');
      const freshness = await tableOf(page, 'ops-freshness');
      expect(freshness.body.map((r) => [r[0], r[1], r[2], r[4], r[6]])).toEqual([['almanach', 'cloud', 'nova', '=30', 'ok'], ['amie', 'hpc', 'hpc', '=7260', 'silent']]);
      expect(await page.$$eval('#panel-ops-freshness tbody tr.silent', (rows) => rows.length)).toBe(1);
      // Queues: the current depth and every history sample, the chart drawn.
      const queues = await tableOf(page, 'ops-queues');
      expect(queues.body.map((r) => [r[1], ...r.slice(2)])).toEqual([
        ['jobs', '=3', '=1', '=0', '=2'],
        ['jobs', '=5', '=1', '=0', '=2'],
        ['jobs', '=9', '=1', '=1', '=2'],
        ['jobs', '=13', '=1', '=2', '=2'],
      ]);
      expect(await dataHref(page, 'ops-queues')).toBe('/reports/ops/queues?history=6h');
      expect(await barPixels(page, 'ops-queues')).toBeGreaterThan(20);
      // Failed AMIE records grouped by error with their counts, the total from the answer.
      const failures = await tableOf(page, 'ops-failures');
      expect(failures.body.map((r) => r.slice(0, 5))).toEqual([
        ['hpc', '', 'Resource: is required', 'Storage', '=1'],
        ['hpc', 'cluster-a', 'Charge: is required', 'Compute', '=2'],
      ]);
      expect(failures.foot[0][4]).toBe('=3');
      expect(await barPixels(page, 'ops-failures')).toBeGreaterThan(20);
      await page.screenshot({ path: join(RESULTS, 'dashboard-reader-operations-fixtures.png'), fullPage: true });
      // Refresh: the operations panels every 15 s, the data panels every 60 s.
      const count = (path: string) => calls.filter((c) => c === path).length;
      const before = { ops: count('/reports/ops/freshness'), usage: count('/reports/usage') };
      await page.clock.runFor(15_500);
      await page.waitForFunction(() => !document.querySelector('.panel[data-state="loading"]'));
      expect(count('/reports/ops/freshness')).toBe(before.ops + 1);
      expect(count('/reports/usage')).toBe(before.usage);
      await page.clock.runFor(45_000);
      await page.waitForFunction(() => !document.querySelector('.panel[data-state="loading"]'));
      expect(count('/reports/ops/freshness')).toBe(before.ops + 4);
      expect(count('/reports/usage')).toBeGreaterThan(before.usage);
      // New filters while the operations answers are in flight: those answers belong to the old
      // generation and are dropped, so the operations panels must be asked again, not left "loading"
      // until the next 15 s tick (the hash edit and the filter controls alike).
      const ops = ['ops-freshness', 'ops-queues', 'ops-failures'];
      const opsStates = () => page.$$eval('.panel[data-panel^="ops-"]', (nodes) => nodes.map((n) => `${n.getAttribute('data-panel')} ${n.getAttribute('data-state')}`));
      for (const change of [
        () => page.evaluate(() => { location.hash = '#month=2025-02&granularity=day'; }),
        () => page.selectOption('#f-granularity', 'month'),
      ]) {
        const inFlight = holdOps(3);
        await page.clock.runFor(15_000);
        await inFlight.heldAll;
        const generation = await generationOf(page);
        await change();
        // The new generation has started (and dropped the answers in flight) before they arrive.
        await page.waitForFunction((g) => Number(document.body.getAttribute('data-generation')) > g, generation);
        inFlight.release();
        await page.waitForFunction(() => !document.querySelector('.panel[data-state="loading"]'), undefined, { timeout: 10_000 });
        expect(await opsStates()).toEqual(ops.map((id) => `${id} ready`));
      }
      expect(await page.evaluate(() => location.hash)).toBe('#month=2025-02&granularity=month');
    } finally {
      await context.close();
    }
  });

  it('operations panels: freshness table, queue depth and failed AMIE records equal their "data" answers (the 15 s refresh: the fake-clock check above)', async () => {
    // The fake clock, paused once the page is ready: no refresh redraws a panel while it is compared.
    const s = await open('', { clock: true });
    const freshnessAnswers: Promise<Row>[] = [];
    s.page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/reports/ops/freshness') freshnessAnswers.push(response.json());
    });
    try {
      await signIn(s, reader);
      await panelsSettled(s.page);
      await s.page.clock.pauseAt(await s.page.evaluate(() => Date.now() + 1000));
      const href = await dataHref(s.page, 'ops-freshness');
      expect(href).toBe('/reports/ops/freshness');
      // The table, number for number, is the route's answer to the page (ages move with the clock, so that answer is the one to compare)…
      expect(freshnessAnswers).toHaveLength(1);
      const seen = await freshnessAnswers[0];
      const ftable = await tableOf(s.page, 'ops-freshness');
      const asTable = (x: Row) => [x.source, x.site, x.collector, `=${x.age_seconds}`, `=${x.threshold_seconds}`, x.silent ? 'silent' : 'ok'];
      expect(ftable.body.map((r) => [r[0], r[1], r[2], r[4], r[5], r[6]])).toEqual(seen.sources.map(asTable));
      expect(seen.sources.length).toBeGreaterThan(0);
      // …and the "data" link, fetched by the test, answers the same sources, thresholds and verdicts, each age no younger.
      const freshness = await fetchAnswer(href, reader);
      expect(freshness.sources.map((x: Row) => [x.source, x.site, x.collector, x.threshold_seconds, x.silent])).toEqual(seen.sources.map((x: Row) => [x.source, x.site, x.collector, x.threshold_seconds, x.silent]));
      freshness.sources.forEach((x: Row, i: number) => expect(x.age_seconds).toBeGreaterThanOrEqual(seen.sources[i].age_seconds));
      const queues = await fetchAnswer(await dataHref(s.page, 'ops-queues'), reader);
      expect(await dataHref(s.page, 'ops-queues')).toBe('/reports/ops/queues?history=6h');
      const qtable = await tableOf(s.page, 'ops-queues');
      expect(qtable.body.filter((r) => r[0] === 'now').map((r) => [r[1], ...r.slice(2).map((v) => v.slice(1))])).toEqual(
        queues.queues.map((q: Row) => [q.queue, String(q.waiting), String(q.active), String(q.delayed), String(q.failed)]),
      );
      // Failed AMIE records grouped by error with their counts (the seed left one without Charge).
      const failures = await fetchAnswer(await dataHref(s.page, 'ops-failures'), reader);
      expect(failures.total).toBeGreaterThanOrEqual(1);
      const table = await tableOf(s.page, 'ops-failures');
      expect(table.body.map((r) => [r[0], r[1], r[2], r[3], r[4]])).toEqual(failures.groups.map((g: Row) => [g.site, g.resource, g.error, g.usage_type, `=${g.count}`]));
      expect(table.foot[0][4]).toBe(`=${failures.total}`);
      expect(table.body.some((r) => r[0] === 'hpc' && /Charge/.test(r[2]))).toBe(true);
      expect(await barPixels(s.page, 'ops-failures')).toBeGreaterThan(20);
    } finally {
      await s.close();
    }
  });

  it('silent source: the AMIE site silent beyond its threshold produces the banner above every chart, and the freshness badge says so', async () => {
    const s = await open();
    try {
      await signIn(s, reader);
      await panelsSettled(s.page);
      const banner = await s.page.textContent('#silent-banner');
      expect(await s.page.isVisible('#silent-banner')).toBe(true);
      expect(banner).toMatch(/amie at hpc/);
      expect(await s.page.textContent('#freshness-badge')).toMatch(/silent/);
      const bannerBox = await s.page.locator('#silent-banner').boundingBox();
      const firstPanel = await s.page.locator('.panel').first().boundingBox();
      expect(bannerBox!.y).toBeLessThan(firstPanel!.y);
    } finally {
      await s.close();
    }
  });
  it('budget burn-down (reports.md 8.3): at 85 % the 80 % marker is crossed, the state "warning" and the forecast line drawn; at 101 % "exhausted"; the table equals the answer; no budget is a line, not an error', async () => {
    // Two budgets over [20 local days ago, 10 days ahead) of 1000 SU, debited through the admin route three days ago
    // (inside the 14 complete days of the burn rate, so the 85 % one has a forecast inside its period).
    const [{ start, end, debit_day }] = (await t.runtime.dataSource.query(
      `SELECT report_day_start(d - 20, c.time_zone) AS start, report_day_start(d + 10, c.time_zone) AS end, to_char(d - 3, 'YYYY-MM-DD') AS debit_day
       FROM report_clock c, LATERAL (SELECT (now() AT TIME ZONE c.time_zone)::date AS d) x`,
    )) as { start: Date; end: Date; debit_day: string }[];
    const period = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
    // An overdraft for the 101 % one: available −10 within it is "exhausted", not "overdrawn" (reports.md 6.3's order).
    await t.http.put('/admin/reports/budgets/p-burn101/policy').set('X-Auth-Token', ADMIN_TOKEN).send({ overdraft: '100' }).expect(200);
    for (const [project, amount] of [['p-burn85', '850'], ['p-burn101', '1010']]) {
      await seedBudget(t.app, project, '1000.000000', period);
      await t.http.post(`/admin/reports/budgets/${project}/entries`).set('X-Auth-Token', ADMIN_TOKEN)
        .send({ kind: 'manual_debit', amount, reason: 'dashboard burn-down check', at: debit_day }).expect(201);
    }
    // An open hold of 50 SU on the 85 % one, as a scheduler makes it: the band between remaining and available.
    await t.http.post('/reports/budgets/p-burn85/holds').set('X-Auth-Token', service).send({ amount: '50', reference: 'burn-down-band', description: 'dashboard check' }).expect(201);
    // The fake clock, paused once the page is ready: no 60 s refresh redraws the panel (a new as_of, a new forecast) while it is compared.
    const s = await open('#project=p-burn85&month=2025-03&granularity=day', { clock: true });
    /** The answer the page gets for a project's budget (waited for: a listener's body may come after the panel is drawn). */
    const answerTo = (project: string): Promise<Row> =>
      s.page.waitForResponse((r) => new URL(r.url()).pathname === `/reports/budgets/${project}`, { timeout: 60_000 }).then((r) => r.json());
    const budgetCalls = () => s.requests.filter((r) => new URL(r.url()).pathname.startsWith('/reports/budgets/')).length;
    /** The budget panel's three tables (figures, thresholds, series) by their exact data-values. */
    const budgetTables = () => s.page.$eval('#panel-budget', (section) => {
      const read = (sel: string) => Array.from(section.querySelectorAll(`${sel} tbody tr`) as ArrayLike<any>).map((tr: any) =>
        Array.from(tr.cells as ArrayLike<any>).map((td: any) => (td.hasAttribute('data-value') ? `=${td.getAttribute('data-value')}` : (td.textContent ?? ''))));
      return { figures: read('.budget-figures'), thresholds: read('.budget-thresholds'), series: read('.budget-series') };
    });
    const markers = () => s.page.$$eval('#panel-budget .markers li', (items) => items.map((li) => `${li.getAttribute('data-percent')} ${li.getAttribute('data-crossed')}`));
    const legend = () => s.page.$$eval('#panel-budget .u-legend .u-label', (labels) => labels.map((l) => l.textContent));
    const stateOf = () => s.page.getAttribute('#panel-budget .budget-state', 'data-budget-state');
    /** What the table must hold for an answer: every figure as answered, the thresholds, each day with remaining = granted − consumed_to_date exactly. */
    const expected = (a: Row) => ({
      figures: [
        ...['granted', 'consumed', 'held', 'available', 'accrued_today', 'outside_period', 'ratio', 'burn_rate_per_day'].map((f) => [f, `=${a[f]}`]),
        ['forecast_exhausted_at', `=${a.forecast_exhausted_at ?? ''}`], ['state', `=${a.state}`], ['period', `=${a.period.start}/${a.period.end}`],
      ],
      thresholds: a.thresholds.map((x: Row) => [`=${x.percent}`, `=${remainingAt(a.granted, x.percent)}`, `=${x.crossed_at ?? ''}`, `=${x.event_id ?? ''}`]),
      series: a.series.map((d: Row) => [d.day, `=${d.consumed}`, `=${d.consumed_to_date}`, `=${sumDecimals([a.granted, `-${d.consumed_to_date}`])}`]),
    });
    try {
      const answer85 = answerTo('p-burn85');
      await signIn(s, reader);
      await panelsSettled(s.page);
      const page85 = await answer85;
      await s.page.clock.pauseAt(await s.page.evaluate(() => Date.now() + 1000));
      // The link is the exact URL the page asked; the route has no CSV, so no CSV link.
      const href = await dataHref(s.page, 'budget');
      expect(href).toBe('/reports/budgets/p-burn85?series=day');
      expect(await s.page.$$eval('#panel-budget a.csv-link', (links) => links.length)).toBe(0);
      expect(budgetCalls()).toBe(1);
      expect([page85.state, page85.consumed, page85.held, page85.available]).toEqual(['warning', '850.000000', '50.000000', '100.000000']);
      expect(page85.forecast_exhausted_at).not.toBeNull();
      // The table is the page's answer value for value…
      expect(await budgetTables()).toEqual(expected(page85));
      // …and the "data" link answers the same figures (only as_of and the forecast from it move).
      const fetched = await fetchAnswer(href, reader);
      expect(expected({ ...fetched, forecast_exhausted_at: page85.forecast_exhausted_at, as_of: page85.as_of })).toEqual(expected(page85));
      expect(await stateOf()).toBe('warning');
      expect(await s.page.textContent('#panel-budget .budget-state')).toBe('state: warning');
      expect(await markers()).toEqual(['80 true', '100 false', '120 false']);
      expect(await legend()).toEqual(expect.arrayContaining(['80 % crossed', '100 %', 'forecast', 'remaining SU', 'granted → 0', 'open holds 50.000000', 'available']));
      // The holds band: its fill, rgba(128,100,162,0.25), on the (transparent) canvas.
      expect(await colourPixels(s.page, 'budget', '#8064a2', [40, 90])).toBeGreaterThan(50);
      // The forecast line is drawn: pixels of its colour on the canvas; the remaining line too.
      expect(await colourPixels(s.page, 'budget', '#e07b39')).toBeGreaterThan(10);
      expect(await colourPixels(s.page, 'budget', '#3b6ea5')).toBeGreaterThan(10);
      await s.page.screenshot({ path: join(RESULTS, 'dashboard-budget-85.png'), fullPage: true });

      const answer101 = answerTo('p-burn101');
      await setHash(s.page, '#project=p-burn101&month=2025-03&granularity=day');
      const page101 = await answer101;
      expect([page101.state, page101.available, page101.forecast_exhausted_at]).toEqual(['exhausted', '-10.000000', null]);
      expect(await budgetTables()).toEqual(expected(page101));
      expect(await stateOf()).toBe('exhausted');
      expect(await markers()).toEqual(['80 true', '100 true', '120 false']);
      expect(await legend()).not.toContain('forecast');
      expect(await legend()).not.toContain('available');
      expect(await colourPixels(s.page, 'budget', '#e07b39')).toBe(0);
      await s.page.screenshot({ path: join(RESULTS, 'dashboard-budget-101.png'), fullPage: true });

      // A project with no budget: the route's 404 is a short line, not an error.
      await setHash(s.page, '#project=p-alpha&month=2025-03&granularity=day');
      expect(await s.page.getAttribute('#panel-budget', 'data-state')).toBe('ready');
      expect(await s.page.textContent('#panel-budget .no-budget')).toBe('No current budget for project p-alpha.');
      expect(await s.page.$$eval('#panel-budget canvas, #panel-budget tbody tr', (nodes) => nodes.length)).toBe(0);
      expect(await s.page.isHidden('#message')).toBe(true);
      // All projects: no burn-down panel.
      await setHash(s.page, '#month=2025-03&granularity=day');
      expect(await s.page.$$eval('#panel-budget', (nodes) => nodes.length)).toBe(0);
      expect(s.consoleErrors.filter((e) => !/404/.test(e.text))).toEqual([]);
    } finally {
      await s.close();
    }
    // A user token: its own project's burn-down, another project's is the 403 message.
    const u = await open('#project=p-burn85&month=2025-03&granularity=day');
    try {
      await signIn(u, user);
      await panelsSettled(u.page);
      expect(await u.page.getAttribute('#panel-budget', 'data-status')).toBe('403');
      expect(await u.page.$$eval('#panel-budget canvas, #panel-budget tbody tr, #panel-budget .markers li', (nodes) => nodes.length)).toBe(0);
      expect(await u.page.textContent('#message')).toMatch(/403/);
    } finally {
      await u.close();
    }
  });

  /** Pixels of one colour, with an alpha in `alpha` (opaque by default), on a panel's canvas, every pixel (a thin line has few). */
  async function colourPixels(page: Page, panel: string, hex: string, alpha: [number, number] = [200, 255]): Promise<number> {
    const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return page.$eval(`#panel-${panel} canvas`, (canvas, [r, g, b, lo, hi]) => {
      const c = canvas as any;
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      let hits = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] >= lo && data[i + 3] <= hi && Math.abs(data[i] - r) < 10 && Math.abs(data[i + 1] - g) < 10 && Math.abs(data[i + 2] - b) < 10) hits++;
      }
      return hits;
    }, [...rgb, ...alpha]);
  }
});

/** `granted` × (100 − percent) ÷ 100 as a plain decimal: the remaining SU at a threshold, exactly. */
function remainingAt(granted: string, percent: number): string {
  const [whole, frac = ''] = granted.split('.');
  const units = BigInt(whole + frac) * BigInt(100 - percent);
  const scale = frac.length + 2;
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
  return `${units < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Whether `csv` asks the query of `data` as CSV: the same parameters but `format=csv`, without `limit` and `cursor` (400 with CSV, reports.md 1.7). */
function sameQueryAsCsv(data: string, csv: string): boolean {
  const d = new URL(data, 'http://x');
  const c = new URL(csv, 'http://x');
  if (d.pathname !== c.pathname || c.searchParams.get('format') !== 'csv' || c.searchParams.has('limit') || c.searchParams.has('cursor')) return false;
  d.searchParams.delete('limit');
  d.searchParams.delete('cursor');
  c.searchParams.delete('format');
  return [...d.searchParams].sort().join('&') === [...c.searchParams].sort().join('&');
}

/** The exact sum of plain decimal strings (reports.md 1.4). */
function sumDecimals(values: string[]): string {
  const scale = Math.max(0, ...values.map((v) => (v.split('.')[1] ?? '').length));
  const units = values.reduce((acc, v) => {
    const [whole, frac = ''] = v.replace('-', '').split('.');
    const n = BigInt(whole + frac.padEnd(scale, '0'));
    return acc + (v.startsWith('-') ? -n : n);
  }, 0n);
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
  return `${units < 0n ? '-' : ''}${scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits}`;
}

function nodes403(n: number): string[] {
  return Array.from({ length: n }, () => '403');
}
