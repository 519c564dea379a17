import { readFileSync } from 'node:fs';
import { BudgetLedgerRepository } from '../src/reports/budgets/ledger/budget-ledger.repository';
import { BudgetLedgerService } from '../src/reports/budgets/ledger/budget-ledger.service';
import { insertBudget } from './seed-budget';
import { jsonClient, percentile, report, runConcurrently, startBenchProcess } from './support';

/**
 * Budget holds created and settled per second (reports.md 6.4) with 16
 * concurrent clients, over HTTP: each cycle places a hold and settles it,
 * two requests and two transactions under the budget's row lock. Once on a
 * single budget every client shares (the row lock serialises them, as it
 * must: 6.4 "Concurrency"), once spread over 1,000 budgets. An SU price list
 * exists, so each create rates today's usage for accrued_today as it does
 * in a deployment that budgets in SU. The API runs in a child process.
 *
 * Limits (this bench's own; the contract sets none for holds): a scheduler
 * places a hold per job submission and settles it per job end. 50 cycles/s
 * on one project's budget is a burst of 3,000 job submissions a minute for
 * one project; 200 cycles/s across projects is an order of magnitude above
 * a busy site's sustained submission rate. p99 ≤ 250 ms keeps a submit-time
 * hold from being felt by the user.
 */
const CLIENTS = 16;
const BUDGETS = 1000;
const CYCLES = Number(process.env.BENCH_HOLDS_CYCLES ?? 2000);
const LIMITS = {
  'one-budget': { rate: 50, p99: 250 },
  'distinct-budgets': { rate: 200, p99: 250 },
} as const;

/** CPU time (user + system) the API child process has used, from /proc (clock ticks of 10 ms). */
function apiCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function run(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    // As the quotas bench: embedded PGlite runs one query at a time, so 16 clients measure nothing about row locks.
    process.stdout.write('# holds bench skipped: it needs real PostgreSQL (set DATABASE_URL)\n');
    return;
  }
  const server = await startBenchProcess(async (db) => {
    // Budgets through the ledger (a grant entry each), as the suites seed them.
    const ledger = new BudgetLedgerService(new BudgetLedgerRepository(db));
    for (let i = 0; i <= BUDGETS; i++) await insertBudget(db, ledger, i === BUDGETS ? 'bench-shared' : `bench-${i}`, '1000000000');
  });
  process.stdout.write(`# on ${server.description}\n`);
  try {
    const send = jsonClient(server.baseUrl);
    const admin = server.adminToken;
    const token = (await send('POST', '/admin/tokens', admin, { name: 'bench-scheduler', role: 'service' })).token as string;
    const today = new Date().toISOString().slice(0, 10);
    await send('POST', '/admin/reports/price-lists', admin, {
      name: 'bench-su',
      currency: 'SU',
      items: [{ meter: 'instance.time', key: '*', unit_price: '1', price_unit: 'hour', valid_from: today }],
    });

    let serial = 0;
    const cycle = async (project: string) => {
      const hold = await send('POST', `/reports/budgets/${project}/holds`, token, { amount: '10', reference: `bench-${serial++}` });
      await send('POST', `/reports/budgets/${project}/holds/${hold.id}/settle`, token, { amount: '7.5' });
    };

    for (const [name, projectOf] of [
      ['one-budget', () => 'bench-shared'],
      ['distinct-budgets', (i: number) => `bench-${i % BUDGETS}`],
    ] as const) {
      await runConcurrently(CLIENTS * 4, CLIENTS, (i) => cycle(projectOf(i))); // warm-up
      const cpuBefore = apiCpuMs(server.pid);
      const started = process.hrtime.bigint();
      const latencies = await runConcurrently(CYCLES, CLIENTS, (i) => cycle(projectOf(i)));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = apiCpuMs(server.pid) - cpuBefore;
      latencies.sort((a, b) => a - b);
      const limit = LIMITS[name];
      report(`holds-create-settle-${name}-c${CLIENTS}`, CYCLES / seconds, `holds/s (limit ≥ ${limit.rate})`);
      report(`holds-create-settle-${name}-c${CLIENTS}-p99`, percentile(latencies, 99), `ms (limit ≤ ${limit.p99})`);
      // Informative, and little affected by other load on the machine: what one cycle costs the API process.
      report(`holds-create-settle-${name}-api-cpu-per-cycle`, cpu / CYCLES, 'ms (no limit)');
    }
  } finally {
    await server.close();
  }
}
