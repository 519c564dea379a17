import { ApplicationConfig } from '@nestjs/core';
import { IdempotencyPruner } from '../../src/reports/idempotency/idempotency-pruner.service';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/**
 * Idempotency-Key on the reports' POST routes (reports.md 1.8) through the
 * front door: replays answer the first status, body and Location and do no
 * second piece of work; another request under the key is 409; keys are per
 * token; bad values are 400; two simultaneous calls do the work once; an
 * expired key runs again and is pruned.
 */
describe('Idempotency-Key (reports.md 1.8)', () => {
  const t = useTestApp();
  const CHECKS = '/admin/reports/consistency-checks';
  const db = () => t.runtime.dataSource;
  const post = (path: string, key: string | undefined, body?: unknown, token = ADMIN_TOKEN) => {
    const req = t.http.post(path).set('X-Auth-Token', token);
    if (key !== undefined) req.set('Idempotency-Key', key);
    return body === undefined ? req : req.send(body as object);
  };
  const jobCount = async () => Number((await db().query(`SELECT count(*)::int AS n FROM report_job`))[0].n);

  it('is an app-wide guard, and nothing is intercepted app-wide (docs/architecture.md, "Request path")', () => {
    const config = t.app.get(ApplicationConfig);
    expect(config.getGlobalInterceptors()).toEqual([]);
    expect(config.getGlobalRequestInterceptors()).toEqual([]);
    expect(config.getGlobalGuards().map((guard) => guard.constructor.name)).toEqual(['AccessGuard', 'IdempotencyGuard']);
    expect(config.getGlobalRequestGuards()).toEqual([]);
  });

  describe('POST /admin/reports/consistency-checks', () => {
    it('replays the first status, body and Location, and starts no second job', async () => {
      const first = await post(CHECKS, 'check-1', { period: '2025-03', reason: 'nightly' }).expect(202);
      expect(first.headers.location).toBe(`/admin/reports/jobs/${first.body.id}`);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      // The same JSON value: other key order, other whitespace.
      const again = await t.http
        .post(CHECKS)
        .set('X-Auth-Token', ADMIN_TOKEN)
        .set('Idempotency-Key', 'check-1')
        .set('Content-Type', 'application/json')
        .send('{ "reason" : "nightly",\n  "period": "2025-03" }')
        .expect(202);
      expect(again.text).toBe(first.text);
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers['content-type']).toBe(first.headers['content-type']);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await jobCount()).toBe(1);
    });

    it('keeps a 4xx answer too: a body refused by validation is refused again the same way', async () => {
      const first = await post(CHECKS, 'bad-body', { period: 'soon' }).expect(400);
      const again = await post(CHECKS, 'bad-body', { period: 'soon' }).expect(400);
      expect(again.text).toBe(first.text);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await jobCount()).toBe(0);
    });

    it('answers 409 to the same key with another body or another path, and does nothing', async () => {
      const first = await post(CHECKS, 'k', { period: '2025-03' }).expect(202);
      const body = await post(CHECKS, 'k', { period: '2025-04' }).expect(409);
      expect(body.body.error).toMatch(/^Idempotency-Key "k" was already used with another request/);
      const path = await post(`/admin/reports/jobs/${first.body.id}/cancel`, 'k').expect(409);
      expect(path.body.error).toMatch(/^Idempotency-Key/);
      expect(await jobCount()).toBe(1);
      // The first request still replays.
      await post(CHECKS, 'k', { period: '2025-03' }).expect(202);
      expect(await jobCount()).toBe(1);
    });

    it('keeps the keys of different tokens apart', async () => {
      const other = await t.token('admin', { name: 'ops' });
      const a = await post(CHECKS, 'shared', { period: '2025-03' }).expect(202);
      const b = await post(CHECKS, 'shared', { period: '2025-03' }, other).expect(202);
      expect(b.body.id).not.toBe(a.body.id);
      // Another body under the other token's key is no conflict for the first token.
      await post(CHECKS, 'shared-2', { period: '2025-04' }, other).expect(202);
      await post(CHECKS, 'shared-2', { period: '2025-05' }).expect(202);
      expect(await jobCount()).toBe(4);
    });

    it.each([
      ['empty', ''],
      ['longer than 255 characters', 'k'.repeat(256)],
      ['not ASCII', 'clé'],
      ['a control character', 'a\tb'],
    ])('answers 400 naming the header for a key that is %s', async (_what, key) => {
      const res = await post(CHECKS, key, { period: '2025-03' }).expect(400);
      expect(res.body.error).toBe('Idempotency-Key must be 1 to 255 printable characters');
      expect(res.body.fields).toEqual({ 'Idempotency-Key': 'Idempotency-Key must be 1 to 255 printable characters' });
      expect(await jobCount()).toBe(0);
    });

    it('accepts a key of 255 printable characters, spaces included', async () => {
      const key = `a b~${'x'.repeat(251)}`;
      const first = await post(CHECKS, key, { period: '2025-03' }).expect(202);
      expect((await post(CHECKS, key, { period: '2025-03' }).expect(202)).text).toBe(first.text);
      expect(await jobCount()).toBe(1);
    });

    it('does the work once for two simultaneous identical calls, and both get the same answer', async () => {
      const [a, b] = await Promise.all([post(CHECKS, 'race', { period: '2025-03' }), post(CHECKS, 'race', { period: '2025-03' })]);
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(b.text).toBe(a.text);
      expect(b.headers.location).toBe(a.headers.location);
      expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].filter(Boolean)).toEqual(['true']);
      expect(await jobCount()).toBe(1);
    });

    it('runs an expired key again, and the pruner deletes expired keys', async () => {
      const first = await post(CHECKS, 'old', { period: '2025-03' }).expect(202);
      await db().query(`UPDATE report_idempotency_key SET expires_at = now() - interval '1 second', claimed_at = now() - interval '25 hours'`);
      const again = await post(CHECKS, 'old', { period: '2025-03' }).expect(202);
      expect(again.body.id).not.toBe(first.body.id);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(await jobCount()).toBe(2);
      // An expired key under another body is no conflict either.
      await db().query(`UPDATE report_idempotency_key SET expires_at = now() - interval '1 second'`);
      await post(CHECKS, 'old', { period: '2025-04' }).expect(202);

      await post(CHECKS, 'expired', { period: '2025-03' }).expect(202);
      await db().query(`UPDATE report_idempotency_key SET expires_at = now() - interval '1 second' WHERE key = 'expired'`);
      await t.app.get(IdempotencyPruner).sweep(0);
      expect((await db().query(`SELECT key FROM report_idempotency_key ORDER BY key`)).map((r: { key: string }) => r.key)).toEqual(['old']);
    });

    it('takes no key when the header is absent', async () => {
      await post(CHECKS, undefined, { period: '2025-03' }).expect(202);
      await post(CHECKS, undefined, { period: '2025-03' }).expect(202);
      expect(await jobCount()).toBe(2);
      expect(await db().query(`SELECT key FROM report_idempotency_key`)).toEqual([]);
    });
  });

  describe('POST /admin/reports/jobs/{id}/cancel', () => {
    it('replays the first answer even after the job changed, and a 404 as a 404', async () => {
      const job = await post(CHECKS, undefined, { period: '2025-03' }).expect(202);
      const first = await post(`/admin/reports/jobs/${job.body.id}/cancel`, 'cancel-1');
      expect([200, 409]).toContain(first.status);
      const again = await post(`/admin/reports/jobs/${job.body.id}/cancel`, 'cancel-1');
      expect(again.status).toBe(first.status);
      expect(again.text).toBe(first.text);

      const missing = await post('/admin/reports/jobs/00000000-0000-4000-8000-000000000000/cancel', 'cancel-2');
      expect(missing.status).toBeGreaterThanOrEqual(400);
      expect(missing.status).toBeLessThan(500);
      const missingAgain = await post('/admin/reports/jobs/00000000-0000-4000-8000-000000000000/cancel', 'cancel-2');
      expect([missingAgain.status, missingAgain.text]).toEqual([missing.status, missing.text]);
    });
  });

  it('leaves other methods alone: a GET with the header is answered as usual', async () => {
    await t.http.get('/admin/reports/jobs').set('X-Auth-Token', ADMIN_TOKEN).set('Idempotency-Key', '').expect(200);
    expect(await db().query(`SELECT key FROM report_idempotency_key`)).toEqual([]);
  });
});
