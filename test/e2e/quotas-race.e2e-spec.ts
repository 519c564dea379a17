import { AddressInfo } from 'node:net';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, realServers, startTestApp, TestApp } from '../support/test-app';

// Race safety of commissions (quotas.md 5.9) against real PostgreSQL: many
// requests in flight at once, each on its own connection. Embedded PGlite
// runs one query at a time, so a race there proves nothing.
const maybe = realServers.database ? describe : describe.skip;
if (!realServers.database) {
  console.log('quotas race tests skipped: they need real PostgreSQL (set DATABASE_URL)');
}

const ACCOUNT = '/astakos/account/v1.0';
const VM = 'cyclades.vm';
const P = 'race-project';

maybe('quotas under concurrency (real PostgreSQL)', () => {
  let t: TestApp;
  let base: string;
  let service: string;

  beforeAll(async () => {
    t = await startTestApp();
    // Concurrent requests need a listening server (supertest would listen once per request).
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    service = await t.token('service', { name: 'racer' });
    await call('PUT', `/admin/quotas/resources/${VM}`, { service: 'cyclades_compute' }, ADMIN_TOKEN);
  });

  async function call(method: string, path: string, body: unknown, token = service): Promise<{ status: number; body: any }> {
    const res = await fetch(base + path, {
      method,
      headers: { 'X-Auth-Token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function setLimits(holdings: { holder: string; source: string | null; resource: string; limit: number }[]) {
    const res = await call('PUT', '/admin/quotas/holdings', { holdings }, ADMIN_TOKEN);
    expect(res.status).toBe(200);
  }

  async function holding(holder: string, source: string | null) {
    const q = new URLSearchParams({ holder, source: source ?? 'null', resource: VM });
    const res = await call('GET', `/admin/quotas/holdings?${q}`, undefined, ADMIN_TOKEN);
    return res.body.holdings[0] as { limit: number; usage: number; pending: number };
  }

  const userProv = (user: string, quantity: number) => ({ holder: `user:${user}`, source: `project:${P}`, resource: VM, quantity });
  const projectProv = (quantity: number) => ({ holder: `project:${P}`, source: null, resource: VM, quantity });

  function tally(statuses: number[]): Record<number, number> {
    const counts: Record<number, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    return counts;
  }

  it.each([false, true])('grants exactly the limit to 40 simultaneous one-unit commissions (auto_accept %s)', async (autoAccept) => {
    await setLimits([
      { holder: 'user:u1', source: `project:${P}`, resource: VM, limit: 5 },
      { holder: `project:${P}`, source: null, resource: VM, limit: 1000 },
    ]);
    const results = await Promise.all(
      Array.from({ length: 40 }, () => call('POST', `${ACCOUNT}/commissions`, { provisions: [userProv('u1', 1), projectProv(1)], auto_accept: autoAccept })),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 201: 5, 413: 35 });
    const serials = results.filter((r) => r.status === 201).map((r) => r.body.serial as number);
    expect(new Set(serials).size).toBe(5);
    expect(await holding('user:u1', `project:${P}`)).toEqual(expect.objectContaining({ limit: 5, usage: 5, pending: autoAccept ? 0 : 5 }));
    expect(await holding(`project:${P}`, null)).toEqual(expect.objectContaining({ usage: 5 }));
  });

  it('grants exactly the project limit to many members racing in both provision orders, without deadlock', async () => {
    const users = Array.from({ length: 8 }, (_, i) => `m${i}`);
    await setLimits([
      ...users.map((u) => ({ holder: `user:${u}`, source: `project:${P}`, resource: VM, limit: 3 })),
      { holder: `project:${P}`, source: null, resource: VM, limit: 10 },
    ]);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => {
        const user = users[i % users.length];
        // Half list the project holding first: locks must still be taken in id order.
        const provisions = i % 2 ? [userProv(user, 1), projectProv(1)] : [projectProv(1), userProv(user, 1)];
        return call('POST', `${ACCOUNT}/commissions`, { provisions, auto_accept: i % 3 === 0 });
      }),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 201: 10, 413: 54 });
    expect((await holding(`project:${P}`, null)).usage).toBe(10);
    let sum = 0;
    for (const u of users) {
      const h = await holding(`user:${u}`, `project:${P}`);
      expect(h.usage).toBeLessThanOrEqual(3);
      sum += h.usage;
    }
    expect(sum).toBe(10);
  });

  it('lets exactly one of 20 concurrent resolvers of one serial win', async () => {
    await setLimits([{ holder: 'user:u1', source: `project:${P}`, resource: VM, limit: 10 }]);
    const issued = await call('POST', `${ACCOUNT}/commissions`, { provisions: [userProv('u1', 4)] });
    expect(issued.status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('POST', `${ACCOUNT}/commissions/${issued.body.serial}/action`, i % 2 ? { accept: '' } : { reject: '' })),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 200: 1, 404: 19 });
    const winner = results.findIndex((r) => r.status === 200);
    const h = await holding('user:u1', `project:${P}`);
    expect(h).toEqual(expect.objectContaining({ pending: 0, usage: winner % 2 ? 4 : 0 }));
    const log = await t.runtime.dataSource.query(`SELECT action FROM quota_provision_log`);
    expect(log).toEqual([{ action: winner % 2 ? 'ACCEPT' : 'REJECT' }]);
  });

  it('resolves each serial once when bulk calls overlap', async () => {
    await setLimits([{ holder: 'user:u1', source: `project:${P}`, resource: VM, limit: 100 }]);
    const serials: number[] = [];
    for (let i = 0; i < 10; i++) serials.push((await call('POST', `${ACCOUNT}/commissions`, { provisions: [userProv('u1', 1)] })).body.serial);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call('POST', `${ACCOUNT}/commissions/action`, { accept: i % 2 ? serials : [...serials].reverse() }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const accepted = results.flatMap((r) => r.body.accepted as number[]);
    expect(accepted.sort((a, b) => a - b)).toEqual(serials);
    expect(results.reduce((n, r) => n + r.body.failed.length, 0)).toBe(6 * 10 - 10);
    expect(await holding('user:u1', `project:${P}`)).toEqual(expect.objectContaining({ usage: 10, pending: 0 }));
  });

  it('keeps counters exact while issues, accepts, rejects, releases and limit changes interleave', async () => {
    await setLimits([
      { holder: 'user:u1', source: `project:${P}`, resource: VM, limit: 1000 },
      { holder: `project:${P}`, source: null, resource: VM, limit: 1000 },
    ]);
    await call('POST', `${ACCOUNT}/commissions`, { provisions: [userProv('u1', 50), projectProv(50)], auto_accept: true });
    const work = Array.from({ length: 60 }, async (_, i): Promise<number> => {
      const q = i % 4 === 0 ? -1 : 2;
      const provisions = i % 2 ? [userProv('u1', q), projectProv(q)] : [projectProv(q), userProv('u1', q)];
      const issued = await call('POST', `${ACCOUNT}/commissions`, { provisions });
      if (issued.status !== 201) throw new Error(`issue answered ${issued.status}`);
      const verb = i % 3 === 0 ? 'reject' : 'accept';
      const resolved = await call('POST', `${ACCOUNT}/commissions/${issued.body.serial}/action`, { [verb]: '' });
      if (resolved.status !== 200) throw new Error(`resolve answered ${resolved.status}`);
      return verb === 'accept' ? q : 0;
    });
    const limitChanges = Array.from({ length: 10 }, (_, i) =>
      setLimits([{ holder: `project:${P}`, source: null, resource: VM, limit: 1000 + i }]),
    );
    const deltas: number[] = await Promise.all(work);
    await Promise.all(limitChanges);
    const expected = 50 + deltas.reduce((a, b) => a + b, 0);
    expect(await holding('user:u1', `project:${P}`)).toEqual(expect.objectContaining({ usage: expected, pending: 0 }));
    expect(await holding(`project:${P}`, null)).toEqual(expect.objectContaining({ usage: expected, pending: 0 }));
  });
});
