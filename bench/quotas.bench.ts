import { jsonClient, percentile, report, runConcurrently, startBenchProcess } from './support';

/**
 * Commissions issued and accepted per second (quotas.md 4.6, 4.9) with 16
 * concurrent clients: each client issues a one-unit commission and accepts it,
 * over HTTP, so one figure counts two requests and two transactions. Once on
 * a single holding every client shares (the row lock serialises them, 5.9),
 * once with each client on a holding of its own. The API runs in a child
 * process, so the load generator does not share its event loop.
 */
const CLIENTS = 16;
const COMMISSIONS = Number(process.env.BENCH_QUOTAS_COMMISSIONS ?? 2000);
const RESOURCE = 'bench.units';
const ACCOUNT = '/astakos/account/v1.0';

export async function run(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    // Embedded PGlite runs one query at a time, so 16 clients measure nothing
    // about row locks; and its socket server can interleave concurrent
    // connections' extended-protocol messages ("portal does not exist").
    process.stdout.write('# quotas bench skipped: it needs real PostgreSQL (set DATABASE_URL)\n');
    return;
  }
  // Nothing to seed in SQL: resources, limits and the token go through the API below.
  const server = await startBenchProcess(async () => undefined);
  process.stdout.write(`# on ${server.description}\n`);
  try {
    const send = jsonClient(server.baseUrl);
    const admin = server.adminToken;
    const token = (await send('POST', '/admin/tokens', admin, { name: 'bench-service', role: 'service' })).token as string;
    await send('PUT', `/admin/quotas/resources/${RESOURCE}`, admin, { service: 'bench' });
    const holders = Array.from({ length: CLIENTS }, (_, i) => `project:bench-${i}`);
    await send('PUT', '/admin/quotas/holdings', admin, {
      holdings: ['project:bench-shared', ...holders].map((holder) => ({ holder, source: null, resource: RESOURCE, limit: Number.MAX_SAFE_INTEGER })),
    });

    const cycle = async (holder: string) => {
      const { serial } = await send('POST', `${ACCOUNT}/commissions`, token, {
        provisions: [{ holder, source: null, resource: RESOURCE, quantity: 1 }],
      });
      await send('POST', `${ACCOUNT}/commissions/${serial}/action`, token, { accept: '' });
    };

    for (const [name, holderOf] of [
      ['shared-holding', () => 'project:bench-shared'],
      ['distinct-holdings', (lane: number) => holders[lane]],
    ] as const) {
      await runConcurrently(CLIENTS * 4, CLIENTS, (i) => cycle(holderOf(i % CLIENTS))); // warm-up
      const started = process.hrtime.bigint();
      const latencies = await runConcurrently(COMMISSIONS, CLIENTS, (i) => cycle(holderOf(i % CLIENTS)));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      latencies.sort((a, b) => a - b);
      report(`quotas-issue-accept-${name}-c${CLIENTS}`, COMMISSIONS / seconds, 'commissions/s');
      report(`quotas-issue-accept-${name}-c${CLIENTS}-p99`, percentile(latencies, 99), 'ms');
    }
  } finally {
    await server.close();
  }
}
