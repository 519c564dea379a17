import { DashboardAssetsService } from '../../src/dashboard/dashboard-assets.service';
import { useTestApp } from '../support/test-app';

/** `GET /dashboard` and `GET /dashboard/assets/{file}` (reports.md 8.1): the files, their headers, nothing from elsewhere. */
describe('GET /dashboard', () => {
  const t = useTestApp();

  it('answers the page without a credential, with a CSP that allows only the own origin, and revalidated every time', async () => {
    const res = await t.http.get('/dashboard').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'self'");
    // Every directive names only 'self' or 'none': no host, no scheme, no inline, no eval.
    for (const directive of csp.split(';').map((d) => d.trim())) {
      expect(directive.split(/\s+/).slice(1).every((source) => source === "'self'" || source === "'none'")).toBe(true);
    }
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refers only to same-origin, content-hashed assets, and has no inline script or style', async () => {
    const res = await t.http.get('/dashboard').expect(200);
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((url) => url !== '/dashboard');
    expect(urls.length).toBe(5);
    for (const url of urls) expect(url).toMatch(/^\/dashboard\/assets\/[A-Za-z]+\.[0-9a-f]{12}\.(js|css|svg)$/);
    expect(res.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle="|\son[a-z]+="/i);
    expect(res.text).not.toMatch(/https?:\/\//);
    expect(urls).toEqual(expect.arrayContaining([expect.stringMatching(/\/uPlot\.[0-9a-f]{12}\.js$/), expect.stringMatching(/\/uPlot\.[0-9a-f]{12}\.css$/)]));
  });

  it('the token field has no name, so it can never be sent in a URL or a form body', async () => {
    const res = await t.http.get('/dashboard').expect(200);
    expect(res.text).toMatch(/<input id="token" type="password"(?![^>]*\bname=)[^>]*>/);
  });

  it('answers HEAD', async () => {
    await t.http.head('/dashboard').expect(200);
  });
});

describe('GET /dashboard/assets/{file}', () => {
  const t = useTestApp();

  it('serves every asset the page names with its type and a year-long immutable cache lifetime', async () => {
    const page = await t.http.get('/dashboard').expect(200);
    const urls = [...page.text.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]);
    const types: Record<string, RegExp> = { js: /^application\/javascript; charset=utf-8$/, css: /^text\/css; charset=utf-8$/, svg: /^image\/svg\+xml/ };
    for (const url of urls) {
      const res = await t.http.get(url).buffer(true).parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      }).expect(200);
      expect(res.headers['content-type']).toMatch(types[url.split('.').pop()!]);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect((res.body as Buffer).length).toBeGreaterThan(100);
    }
  });

  it('serves uPlot from the npm package', async () => {
    const name = t.app.get(DashboardAssetsService).names().find((n) => /^uPlot\.[0-9a-f]{12}\.js$/.test(n))!;
    const res = await t.http.get(`/dashboard/assets/${name}`).expect(200);
    expect(res.text).toContain('uPlot');
  });

  it.each(['dashboard.js', 'dashboard.000000000000.js', 'index.html', '..%2Fdashboard.controller.ts', 'x'])('answers 404 in the own error shape for %s', async (file) => {
    const res = await t.http.get(`/dashboard/assets/${file}`).expect(404);
    expect(res.body).toEqual({ error: expect.stringContaining('no dashboard asset') });
  });

  it('answers 404 for a path below assets/', async () => {
    await t.http.get('/dashboard/assets/a/b.js').expect(404);
  });
});
