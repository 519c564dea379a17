import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { report, startBenchProcess, stopWorkers } from './support';

/**
 * Re-rating at scale (reports.md 4.6, the rating issue's benchmark): 12
 * months × RERATE_BENCH_PROJECTS projects (default 1,000) of usage day cells
 * seeded in SQL (four cells a project-day: two flavors, a volume type, an
 * AMIE resource; CLOUD_SITE `cloud`), two price lists (EUR and SU) whose 2025
 * items price every cell, then:
 *
 * 1. the first rating: the `rerate` job the lists' creation queues for their
 *    past days (every cell rated from nothing);
 * 2. a correction of the EUR instance price over the year: its `correction`
 *    job supersedes every EUR instance cell, while Almanach writes arrive over
 *    HTTP (RERATE_BENCH_WRITERS concurrent clients); the write rate during the
 *    job beside the rate of the same load without it, measured first;
 * 3. a re-rate of the year in every currency that changes nothing (the cost
 *    of a repeat).
 *
 * Each job's time beside the 5-minute target, with its cells changed per
 * second (and, below 1,000 projects, extrapolated linearly to 1,000). With
 * REDIS_URL, RERATE_BENCH_WORKERS worker processes run the jobs (default 1);
 * otherwise the API process does.
 *
 * Measured (PostgreSQL 15 server, 1 worker, the shared 2-core machine with
 * other test runs on it, so ±30 %; docs/rating-engine.md "Speed"):
 *
 * | job | before, 20 projects | after, 20 | after, 100 | after, 1,000 |
 * |---|---|---|---|---|
 * | first rating (EUR, SU jobs at once) | 199 s, 200 s | 1.4 s, 1.5 s | 5.0 s, 4.6 s | 79.8 s, 85.4 s |
 * | correction under load | 35.4 s | 16.4 s* | 8.7 s | 125 s |
 * | repeat, all currencies | — | 25.2 s* | 3.2 s | 58.8 s |
 *
 * (* before the FULL JOIN fix of the live/fresh comparison.) Details and the
 * profile: in docs/rating-engine.md.
 */
const env = process.env;
const PROJECTS = Number(env.RERATE_BENCH_PROJECTS ?? 1000);
const WORKERS = Number(env.RERATE_BENCH_WORKERS ?? 1);
const WRITERS = Number(env.RERATE_BENCH_WRITERS ?? 8);
const WRITE_S = Number(env.RERATE_BENCH_WRITE_S ?? 20);
const TARGET_S = 300;
const TARGET_PROJECTS = 1000;
const say = (line: string) => process.stdout.write(`# ${line}\n`);

interface Job {
  id: string;
  state: string;
  started_at: string | null;
  finished_at: string | null;
  progress: { total: number | null; done: number };
  result: { cells_changed?: number; cells_superseded?: number } | null;
  error: string | null;
}

export async function run(): Promise<void> {
  const prefix = `bench-rerate-${randomUUID()}`;
  say(`scale: ${PROJECTS} projects × 365 days × 4 usage cells, two currencies (EUR, SU)`);
  const server = await startBenchProcess(async (db) => {
    const started = Date.now();
    await db.query(
      `INSERT INTO report_usage_day_cell (project_id, site, day, meter, key, subkey, quantity, items, summed)
       SELECT 'rr-' || lpad(p::text, 5, '0'), 'cloud', d::date, m.meter, m.key, m.subkey, m.q * (1 + (p % 7)), 1, m.q * (1 + (p % 7))
       FROM generate_series(0, $1 - 1) p
       CROSS JOIN generate_series('2025-01-01'::date, '2025-12-31'::date, interval '1 day') d
       CROSS JOIN (VALUES ('instance.time', 'm1.small', '', 86400.000000), ('instance.time', 'm1.large', '', 43200.500000),
                          ('volume.size', 'ssd', '', 8640000.000000), ('amie.charge', 'cluster', 'compute', 12.5)) AS m(meter, key, subkey, q)`,
      [PROJECTS],
    );
    say(`seeded ${PROJECTS * 365 * 4} day cells in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, { ...env, QUEUE_PREFIX: prefix, CLOUD_SITE: 'cloud', REPORT_TIME_ZONE: 'UTC' });
  const workers: ChildProcess[] = [];
  try {
    if (env.REDIS_URL) {
      for (let i = 0; i < WORKERS; i++) {
        workers.push(
          spawn(process.execPath, [join(__dirname, '..', 'src', 'worker.js')], {
            env: { PATH: env.PATH, DATABASE_URL: server.databaseUrl, REDIS_URL: env.REDIS_URL, QUEUE_PREFIX: prefix, CLOUD_SITE: 'cloud', REPORT_TIME_ZONE: 'UTC', LOG_LEVEL: 'warn' },
            stdio: ['ignore', 'ignore', 'inherit'],
          }),
        );
      }
    }
    say(`on ${server.description}; jobs run in ${workers.length ? `${workers.length} worker process(es)` : 'the API process'}`);
    const admin = { 'X-Auth-Token': server.adminToken, 'Content-Type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.baseUrl}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
      return JSON.parse(text) as Record<string, any>;
    };
    const finish = async (id: string): Promise<Job> => {
      for (;;) {
        const job = (await call('GET', `/admin/reports/jobs/${id}`)) as Job;
        if (['succeeded', 'failed', 'cancelled'].includes(job.state)) {
          if (job.state !== 'succeeded') throw new Error(`job ${id} ended ${job.state}: ${job.error}`);
          return job;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const figures = (name: string, job: Job) => {
      const seconds = (Date.parse(job.finished_at!) - Date.parse(job.started_at!)) / 1000;
      const changed = job.result?.cells_changed ?? 0;
      report(`${name}-seconds`, Number(seconds.toFixed(1)), `s (limit ${TARGET_S} s; ${job.progress.total} project-days)`);
      report(`${name}-cells-changed-per-second`, Math.round(changed / Math.max(seconds, 0.001)), `cells/s (${changed} changed, ${job.result?.cells_superseded ?? 0} superseded)`);
      // A job's work grows with its project-days (chunks of at most 1,000 pairs): the figure at the target's scale, linearly.
      if (PROJECTS !== TARGET_PROJECTS) {
        const scaled = (seconds * TARGET_PROJECTS) / PROJECTS;
        report(`${name}-seconds-at-${TARGET_PROJECTS}-projects`, Number(scaled.toFixed(1)), `s extrapolated (limit ${TARGET_S} s)`);
      }
    };

    // 1. The first rating: the lists' own rerate jobs over their past days.
    const items = (scale: string) => [
      { meter: 'instance.time', key: '*', subkey: '', unit_price: (0.05 * Number(scale)).toFixed(4), price_unit: 'hour', valid_from: '2025-01-01', valid_to: '2026-01-01' },
      { meter: 'volume.size', key: '*', subkey: '', unit_price: '0.0001', price_unit: 'hour', valid_from: '2025-01-01', valid_to: '2026-01-01' },
      { meter: 'amie.charge', key: '*', subkey: '*', unit_price: scale, price_unit: 'unit', valid_from: '2025-01-01', valid_to: '2026-01-01' },
    ];
    const eur = await call('POST', '/admin/reports/price-lists', { name: 'bench EUR', currency: 'EUR', items: items('1') });
    const su = await call('POST', '/admin/reports/price-lists', { name: 'bench SU', currency: 'SU', items: items('10') });
    figures('first-rating-eur', await finish(eur.rerate_job.id));
    figures('first-rating-su', await finish(su.rerate_job.id));

    // The write load alone, then during the correction's job.
    const token = (await call('POST', '/admin/tokens', { name: 'bench-writer', role: 'service' })).token as string;
    let serial = 0;
    const writeFor = async (seconds: number, until: () => boolean = () => false): Promise<number> => {
      const end = Date.now() + seconds * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (Date.now() < end && !until()) {
            const n = serial++;
            const res = await fetch(`${server.baseUrl}/v1/project/w-${n % 50}/instance`, {
              method: 'POST',
              headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
              body: JSON.stringify({ id: `w-${n}`, created_at: new Date(Date.now() - 60_000).toISOString(), name: `w-${n}`, flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' }),
            });
            await res.arrayBuffer();
            if (res.status === 201) done++;
          }
        }),
      );
      return done;
    };
    const alone = (await writeFor(WRITE_S)) / WRITE_S;
    report('almanach-writes-without-job', Number(alone.toFixed(1)), `writes/s (${WRITERS} clients, ${WRITE_S} s)`);

    // 2. A correction of the EUR instance price over the year, with the write load running.
    const listed = await call('GET', `/reports/price-lists/${eur.id}`);
    const instanceItem = (listed.items as { id: string; meter: string }[]).find((i) => i.meter === 'instance.time')!;
    const correction = await call('POST', `/admin/reports/price-lists/${eur.id}/corrections`, {
      reason: 'bench: instance price',
      supersede: [instanceItem.id],
      items: [{ meter: 'instance.time', key: '*', subkey: '', unit_price: '0.0625', price_unit: 'hour', valid_from: '2025-01-01', valid_to: '2026-01-01' }],
    });
    let finished = false;
    const started = Date.now();
    const [job, writes] = await Promise.all([
      finish(correction.job.id).finally(() => (finished = true)),
      writeFor(24 * 3600, () => finished),
    ]);
    const during = writes / ((Date.now() - started) / 1000);
    figures('correction-under-load', job);
    report('almanach-writes-during-job', Number(during.toFixed(1)), `writes/s (${WRITERS} clients; ${alone.toFixed(1)} without the job, ratio ${(during / alone).toFixed(2)})`);

    // 3. A repeat over every currency that changes nothing.
    const again = await call('POST', '/admin/reports/rerate', { period: '2025', reason: 'bench: repeat' });
    figures('repeat-all-currencies', await finish(again.id));
  } finally {
    await stopWorkers(workers, env.REDIS_URL, prefix);
    await server.close();
  }
}
