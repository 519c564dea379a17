import { useTestApp } from '../support/test-app';

/**
 * A window listing's answer is written by PostgreSQL (AlmanachRepository
 * .listWindow, `WIRE` in almanach.repository.ts); every other Almanach answer
 * by `versionToWire` in TypeScript. `GET /v1/entity/{id}` answers the same
 * versions through versionToWire: each version must come out of both with
 * the same keys in the same order and the same values, whatever it holds
 * (dates with and without microseconds, years before 1000, nulls, quotes,
 * control characters and non-ASCII text, nested metadata, attachments).
 */
describe('Almanach listing written by PostgreSQL answers what versionToWire answers', () => {
  const t = useTestApp();

  type Entry = Record<string, unknown> & { entity_id: string; start: string };
  const get = async (url: string, token: string): Promise<{ text: string; body: Entry[] }> => {
    const res = await t.http.get(url).set('X-Auth-Token', token).expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return { text: res.text, body: res.body as Entry[] };
  };

  it('gives each version the keys, their order and the values of GET /v1/entity/{id}', async () => {
    const token = await t.token('service');
    const send = (method: 'post' | 'put', url: string, body: object, status: number) =>
      t.http[method](url).set('X-Auth-Token', token).set('Content-Type', 'application/json').send(body).expect(status);
    const project = 'wire-p';
    // Through the API: microseconds (trailing zeros kept), a resize, image data with a null, a volume with attachments.
    await send('post', `/v1/project/${project}/instance`, { id: 'w-i1', created_at: '2024-06-10T01:02:03.120000Z', name: 'a "quoted"\nname', flavor: 'm1.small', os_distro: 'ubuntu', os_version: null, os_type: 'linux' }, 201);
    await send('put', '/v1/instance/w-i1/resize', { date: '2024-06-12T00:00:00.000001Z', flavor: 'm1.large' }, 200);
    await send('post', '/v1/volume_type', { type_id: 'gold-id', type_name: 'gold' }, 201);
    await send('post', `/v1/project/${project}/volume`, { volume_id: 'w-v1', start: '2024-06-11T00:00:00Z', volume_type: 'gold-id', size: 10, volume_name: 'vol ü', attached_to: [] }, 201);
    await send('put', '/v1/volume/w-v1/attach', { date: '2024-06-13T00:00:00Z', attachments: ['w-i1', 'other'] }, 200);
    // Straight in SQL, what the API does not write: nulls everywhere they may be, nested metadata with escapes, an early year.
    await t.runtime.dataSource.query(
      `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, name, flavor, image_meta, metadata, volume_type, size, attached_to)
       VALUES ('w-i2', 'instance', $1, '0999-01-02T03:04:05Z', '2024-06-15T00:00:00Z', '2024-06-15T00:00:00Z', NULL, NULL, NULL,
               '{"k": "tab\\there", "nested": {"list": [1, 2.5, null, true], "é": "\\u0001"}}', NULL, NULL, NULL),
              ('w-v2', 'volume', $1, '2024-06-01T00:00:00.5Z', NULL, '2024-06-01T00:00:00.5Z', NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      [project],
    );

    const listed = await get(`/v1/project/${project}/entities?start=2024-06-01+00:00:00.000000&end=2024-06-30+00:00:00.000000`, token);
    expect(listed.body.map((e) => e.entity_id)).toEqual(['w-i2', 'w-v2', 'w-i1', 'w-v1', 'w-i1', 'w-v1']);
    const entities = new Map<string, Entry[]>();
    for (const id of ['w-i1', 'w-i2', 'w-v1', 'w-v2']) entities.set(id, (await get(`/v1/entity/${id}`, token)).body);
    for (const entry of listed.body) {
      const same = entities.get(entry.entity_id)!.find((e) => e.start === entry.start);
      expect(same).toBeDefined();
      expect(Object.keys(entry)).toEqual(Object.keys(same!));
      expect(entry).toEqual(same);
    }
    // The values the SQL had to write itself, spelled out.
    const early = listed.body[0];
    expect(early).toMatchObject({ start: '0999-01-02 03:04:05+00:00', end: '2024-06-15 00:00:00+00:00', name: null, flavor: null, image_meta: {}, os: {} });
    expect(early.metadata).toEqual({ k: 'tab\there', nested: { list: [1, 2.5, null, true], é: '\u0001' } });
    expect(listed.body[1]).toMatchObject({ start: '2024-06-01 00:00:00.500000+00:00', end: null, size: null, volume_type: null, attached_to: [] });
    expect(listed.body[2]).toMatchObject({ start: '2024-06-10 01:02:03.120000+00:00', end: '2024-06-12 00:00:00.000001+00:00', name: 'a "quoted"\nname' });
    expect(listed.body[2].image_meta).toEqual({ distro: 'ubuntu', os_type: 'linux' });
    expect(listed.body[5]).toMatchObject({ attached_to: ['w-i1', 'other'], size: 10, volume_type: 'gold', name: 'vol ü' });

    // The typed routes answer their own type only, in the same shapes; an empty window answers [].
    const instances = await get(`/v1/project/${project}/instances?start=2024-06-01+00:00:00.000000&end=2024-06-30+00:00:00.000000`, token);
    expect(instances.body).toEqual(listed.body.filter((e) => e.entity_type === 'instance'));
    const volumes = await get(`/v1/project/${project}/volumes?start=2024-06-01+00:00:00.000000&end=2024-06-30+00:00:00.000000`, token);
    expect(volumes.body).toEqual(listed.body.filter((e) => e.entity_type === 'volume'));
    const none = await get(`/v1/project/wire-empty/entities?start=2020-01-01+00:00:00.000000&end=2020-01-02+00:00:00.000000`, token);
    expect(none.text).toBe('[]');
  });
});
