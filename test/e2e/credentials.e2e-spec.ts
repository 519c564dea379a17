import { createSite } from '../support/amie';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/**
 * What a 401 says (auth.md): whether the credential header is missing or the
 * credential is not known, in each mount's error shape, and never whether the
 * object asked for exists.
 */
const MISSING = 'No X-Auth-Token header: this call needs a token';
const UNKNOWN = 'The X-Auth-Token is not a known token (never issued, or revoked)';

describe('401 answers', () => {
  const t = useTestApp();

  const call = (method: 'get' | 'post' | 'delete', path: string, token?: string) => {
    const req = t.http[method](path);
    return token === undefined ? req : req.set('X-Auth-Token', token);
  };

  it.each([
    ['get', '/admin/tokens'],
    ['get', '/reports/flavors'],
    ['get', '/allocations/v1/allocations/'],
  ] as const)('%s %s: {"error"} names a missing header, an unknown token and a revoked one', async (method, path) => {
    expect((await call(method, path).expect(401)).body).toEqual({ error: MISSING });
    expect((await call(method, path, '   ').expect(401)).body).toEqual({ error: MISSING });
    expect((await call(method, path, 'no-such-token').expect(401)).body).toEqual({ error: UNKNOWN });
    const reader = await t.token('reader');
    const id = (await t.http.get('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body[0].id;
    await t.http.delete(`/admin/tokens/${id}`).set('X-Auth-Token', ADMIN_TOKEN).expect(204);
    expect((await call(method, path, reader).expect(401)).body).toEqual({ error: UNKNOWN });
  });

  it('under /astakos the same messages are the unauthorized fault', async () => {
    const path = '/astakos/account/v1.0/service_quotas';
    expect((await call('get', path).expect(401)).body).toEqual({ unauthorized: { code: 401, message: MISSING, details: '' } });
    expect((await call('get', path, 'no-such-token').expect(401)).body).toEqual({ unauthorized: { code: 401, message: UNKNOWN, details: '' } });
  });

  it('Almanach keeps its contract body {"error": "Unauthorized"} for both (almanach-v1.md 4)', async () => {
    expect((await call('get', '/v1/volume_types').expect(401)).body).toEqual({ error: 'Unauthorized' });
    expect((await call('get', '/v1/volume_types', 'no-such-token').expect(401)).body).toEqual({ error: 'Unauthorized' });
  });

  it('says nothing about the object: an existing and an unknown id answer the same', async () => {
    const existing = (await t.http.post('/admin/tokens').set('X-Auth-Token', ADMIN_TOKEN).send({ name: 'x', role: 'reader' }).expect(201)).body.id;
    for (const token of [undefined, 'no-such-token']) {
      const known = await call('delete', `/admin/tokens/${existing}`, token).expect(401);
      const unknown = await call('delete', '/admin/tokens/00000000-0000-0000-0000-000000000000', token).expect(401);
      expect(known.body).toEqual(unknown.body);
    }
    const rotateKnown = await call('post', '/admin/sites/site-a/rotate', 'no-such-token');
    await createSite(t, 'site-a');
    const rotateAgain = await call('post', '/admin/sites/site-a/rotate', 'no-such-token');
    expect([rotateKnown.status, rotateAgain.status, rotateAgain.body]).toEqual([401, 401, rotateKnown.body]);
  });

  describe('/amie (XA-Site and XA-API-Key)', () => {
    it('names the missing header, and that an X-Auth-Token is not read there', async () => {
      const status = (headers: Record<string, string>) => t.http.get('/amie/usage/status').set(headers).expect(401);
      expect((await status({})).body).toEqual({ error: 'No XA-Site and XA-API-Key headers: /amie needs both XA-Site and XA-API-Key (an X-Auth-Token is not read here)' });
      expect((await status({ 'X-Auth-Token': ADMIN_TOKEN })).body.error).toContain('an X-Auth-Token is not read here');
      expect((await status({ 'XA-Site': 'site-a' })).body).toEqual({ error: 'No XA-API-Key header: /amie needs both XA-Site and XA-API-Key (an X-Auth-Token is not read here)' });
      expect((await status({ 'XA-API-Key': 'k' })).body).toEqual({ error: 'No XA-Site header: /amie needs both XA-Site and XA-API-Key (an X-Auth-Token is not read here)' });
    });

    it('answers an unknown site exactly like a wrong key of a known one', async () => {
      const site = await createSite(t, 'site-a');
      const unknownSite = await t.http.get('/amie/usage/status').set({ 'XA-Site': 'no-such-site', 'XA-API-Key': site.key }).expect(401);
      const wrongKey = await t.http.get('/amie/usage/status').set({ 'XA-Site': site.name, 'XA-API-Key': 'wrong' }).expect(401);
      expect(unknownSite.body).toEqual({ error: 'XA-API-Key is not the current key of the site named in XA-Site (unknown site, or a key rotated out)' });
      expect(wrongKey.body).toEqual(unknownSite.body);
    });
  });
});
