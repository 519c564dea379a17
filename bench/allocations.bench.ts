import { percentile, report, runConcurrently, startBenchServer } from './support';

/**
 * Nectar allocations (spec/allocations.md): creating requests as the client
 * does (form bodies), listing pages of 100 with embedded quotas (admin and a
 * user scoped to its projects), and approve/amend cycles with their history
 * snapshots.
 */
export async function run(): Promise<void> {
  const server = await startBenchServer();
  const root = `${server.baseUrl}/allocations/v1`;
  const call = async (method: string, path: string, token: string, body?: Record<string, unknown>): Promise<any> => {
    const init: RequestInit = { method, headers: { 'X-Auth-Token': token } };
    if (body) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
      init.body = params.toString();
      (init.headers as Record<string, string>)['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(`${root}${path}`, init);
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  try {
    const admin = server.adminToken;
    process.stdout.write(`# ${server.description}\n`);
    await call('POST', '/zones/', admin, { name: 'melbourne', display_name: 'Melbourne' });
    await call('POST', '/sites/', admin, { name: 'uom', display_name: 'UoM' });
    await call('POST', '/service-types/', admin, { catalog_name: 'compute', name: 'Compute', zones: 'melbourne' });
    const cores = await call('POST', '/resources/', admin, { name: 'Cores', service_type: 'compute', quota_name: 'cores', unit: 'cores' });
    const ram = await call('POST', '/resources/', admin, { name: 'RAM', service_type: 'compute', quota_name: 'ram', unit: 'GB' });
    await call('POST', '/bundles/', admin, { name: 'small', description: 'Small', zone: 'melbourne', order: 1, su_per_year: 1200 });
    const tokenRes = await fetch(`${server.baseUrl}/admin/tokens`, {
      method: 'POST',
      headers: { 'X-Auth-Token': admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bench-user', role: 'user', user_id: 'bench@example.org', project_ids: Array.from({ length: 20 }, (_, i) => `p-${i}`) }),
    });
    const user = ((await tokenRes.json()) as { token: string }).token;

    const count = 1000;
    const ids: number[] = new Array(count);
    let started = Date.now();
    const createLatencies = await runConcurrently(count, 16, async (i) => {
      const a = await call('POST', '/allocations/', admin, {
        project_name: `bench-${i}`,
        project_description: 'Bench',
        use_case: 'Bench',
        project_id: `p-${i}`,
        associated_site: 'uom',
        bundle: 'small',
        national: 'False',
        managed: 'True',
        notifications: 'True',
        estimated_project_duration: 12,
      });
      ids[i] = a.id;
      await call('POST', '/quotas/', admin, { allocation: a.id, resource: cores.id, zone: 'melbourne', quota: 8 });
      await call('POST', '/quotas/', admin, { allocation: a.id, resource: ram.id, zone: 'melbourne', quota: 32 });
    });
    report('allocations.create_with_2_quotas.throughput', count / ((Date.now() - started) / 1000), 'allocations/s');
    createLatencies.sort((a, b) => a - b);
    report('allocations.create_with_2_quotas.p95', percentile(createLatencies, 95), 'ms');

    const listAdmin = (await runConcurrently(200, 8, async (i) => void (await call('GET', `/allocations/?limit=100&offset=${(i * 100) % count}`, admin)))).sort((a, b) => a - b);
    report('allocations.list_100.admin.p50', percentile(listAdmin, 50), 'ms');
    report('allocations.list_100.admin.p95', percentile(listAdmin, 95), 'ms');
    const listUser = (await runConcurrently(200, 8, async () => void (await call('GET', '/allocations/?limit=100', user)))).sort((a, b) => a - b);
    report('allocations.list.user_20_projects.p95', percentile(listUser, 95), 'ms');
    const current = (await runConcurrently(500, 8, async (i) => void (await call('GET', `/allocations/?project_id=p-${i % count}&parent_request__isnull=True`, admin)))).sort((a, b) => a - b);
    report('allocations.get_current.p95', percentile(current, 95), 'ms');

    started = Date.now();
    const cycles = 300;
    const cycle = (await runConcurrently(cycles, 8, async (i) => {
      await call('POST', `/allocations/${ids[i]}/approve/`, admin);
      await call('POST', `/allocations/${ids[i]}/amend/`, admin);
    })).sort((a, b) => a - b);
    report('allocations.approve_amend_cycle.throughput', cycles / ((Date.now() - started) / 1000), 'cycles/s');
    report('allocations.approve_amend_cycle.p95', percentile(cycle, 95), 'ms');
  } finally {
    await server.close();
  }
}
