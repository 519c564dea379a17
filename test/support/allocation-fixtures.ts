import { ADMIN_TOKEN, TestApp } from './test-app';

/** The protocol root the client is given (allocations.md 1). */
export const ROOT = '/allocations/v1';

/**
 * A body as python-nectarallocationclient sends it through requests:
 * form-encoded, None left out, lists as repeated keys, booleans as True/False
 * (allocations.md 2.1).
 */
export function form(fields: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      params.append(key, typeof item === 'boolean' ? (item ? 'True' : 'False') : String(item));
    }
  }
  return params.toString();
}

export interface Catalogue {
  zone: string;
  otherZone: string;
  site: { id: number; name: string };
  serviceType: string;
  cores: number;
  flag: number;
  bundle: { id: number; name: string };
  organisation: { id: number };
  rorOrganisation: { id: number; ror_id: string };
  facility: string;
  ardc: string;
}

/** Creates a small catalogue through the API as admin. */
export async function seedCatalogue(t: TestApp): Promise<Catalogue> {
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await t.http.post(`${ROOT}/${path}/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form(body));
    if (res.status !== 201) throw new Error(`seeding ${path} failed: ${res.status} ${res.text}`);
    return res.body;
  };
  await post('zones', { name: 'melbourne', display_name: 'Melbourne' });
  await post('zones', { name: 'monash', display_name: 'Monash' });
  const site = await post('sites', { name: 'uom', display_name: 'University of Melbourne', compute_zones: ['melbourne-qh2', 'melbourne-np'] });
  await post('service-types', { catalog_name: 'compute', name: 'Compute', zones: ['melbourne'], order: 1 });
  const cores = await post('resources', { name: 'Cores', service_type: 'compute', quota_name: 'cores', unit: 'cores' });
  const flag = await post('resources', { name: 'GPU', service_type: 'compute', quota_name: 'gpu', unit: 'bool', resource_type: 'boolean' });
  const bundle = await post('bundles', { name: 'small', description: 'Small', zone: 'melbourne', order: 1, su_per_year: 1200 });
  const organisation = await post('organisations', { full_name: 'University of Testing', short_name: 'UoT', url: 'https://uot.example.org' });
  const rorOrganisation = await post('organisations', { full_name: 'ROR University', short_name: 'RU', url: 'https://ru.example.org', ror_id: 'https://ror.org/00abc1234' });
  await post('ncris-facilities', { name: 'Australian Microscopy Facility', short_name: 'AMF' });
  await post('ardc-projects', { name: 'Nectar Cloud', short_name: 'NECTAR' });
  return {
    zone: 'melbourne',
    otherZone: 'monash',
    site,
    serviceType: 'compute',
    cores: cores.id,
    flag: flag.id,
    bundle,
    organisation,
    rorOrganisation,
    facility: 'AMF',
    ardc: 'NECTAR',
  };
}

/** What the client's `allocations.create()` sends with its defaults. */
export function clientCreateBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project_name: 'proj-a',
    project_description: 'A project',
    convert_trial_project: false,
    national: false,
    use_case: 'Research',
    estimated_number_users: 1,
    estimated_project_duration: 3,
    for_percentage_1: 0,
    for_percentage_2: 0,
    for_percentage_3: 0,
    geographic_requirements: '',
    ncris_support: '',
    nectar_support: '',
    usage_patterns: '',
    notifications: true,
    managed: true,
    ...overrides,
  };
}

/** Creates an allocation with the given token (form body, as the client does) and returns its JSON. */
export async function createAllocation(t: TestApp, token: string, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await t.http.post(`${ROOT}/allocations/`).set('X-Auth-Token', token).type('form').send(form(clientCreateBody(overrides)));
  if (res.status !== 201) throw new Error(`allocation creation failed: ${res.status} ${res.text}`);
  return res.body;
}

/** POSTs an action with no body and no content type, exactly as the client does (allocations.md 2.2). */
export function action(t: TestApp, token: string, id: number, name: string) {
  return t.http.post(`${ROOT}/allocations/${id}/${name}/`).set('X-Auth-Token', token);
}
