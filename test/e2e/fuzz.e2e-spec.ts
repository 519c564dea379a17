import fc from 'fast-check';
import { mountOf, Mount } from '../../src/http/mounts';
import { errorSchema } from '../../src/http/openapi';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, startTestApp, TestApp } from '../support/test-app';

/**
 * Bad input is a 4xx, everywhere (issue 8, item 2): a property-based test
 * driven by the OpenAPI document, so it covers every route's declared path
 * parameters, query parameters and JSON body. For each operation it sends
 * malformed values (wrong types, huge strings, NUL characters, unicode,
 * deeply nested JSON, numbers out of range, empty objects, extra fields)
 * with an admin token (and a site key for /amie), and holds the service to:
 * never a 5xx, every 4xx in the error shape of the path's mount, and the
 * service still healthy afterwards.
 *
 * Reproduce a failure with the same FUZZ_SEED (default fixed); FUZZ_RUNS sets
 * the random runs per operation (after the fixed probes of probes()).
 */

type Json = Record<string, any>;
const SEED = Number(process.env.FUZZ_SEED ?? 20260801);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** JSON text spliced verbatim into a body (deep nesting, numbers JSON.stringify cannot write). */
class RawJson {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD, as UTF-8 would). */
function encodePart(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// ---- malformed values --------------------------------------------------------

const nastyString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\u0000'.repeat(8), '%00', '..', '../..', '\\', '"', "'", '{}', '[]', 'null', 'true', '-1', '0', '1e309', 'NaN', '-0', '0x1F', '9'.repeat(40), '\ud800', '\udfff\ud800', '\u202e\u0301', '🦄'.repeat(5), 'ä\u0308', '\r\n', '\t', '*', '%', '?', '#', '&', '='),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`) },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 5000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constant('é'.repeat(200_000)) },
);

const badNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324, 0.5, -0.0001),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1.0e-400', '-0').map((text) => new RawJson(text)),
);

function deepNest(): fc.Arbitrary<RawJson> {
  return fc.record({ depth: fc.constantFrom(65, 200, 1000, 5000), kind: fc.constantFrom('array', 'object') }).map(({ depth, kind }) =>
    kind === 'array' ? new RawJson('['.repeat(depth) + ']'.repeat(depth)) : new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );
}

const scalar: fc.Arbitrary<unknown> = fc.oneof(nastyString, badNumber, fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, scalar, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom({}, [], [{}], { '': '' }, { __proto__x: 1 }) },
  { weight: 1, arbitrary: deepNest() },
);

// ---- requests from the document ----------------------------------------------

interface Operation {
  key: string;
  method: string;
  path: string;
  mount: Mount;
  operation: Json;
}

interface FuzzRequest {
  url: string;
  body?: string;
}

function resolve(document: Json, node: Json | undefined): Json | undefined {
  let current = node;
  for (let i = 0; current && typeof current.$ref === 'string' && i < 10; i++) {
    current = current.$ref.replace(/^#\//, '').split('/').reduce((n: Json | undefined, part: string) => n?.[part], document);
  }
  return current;
}

/**
 * Values for one schema node: its example or enum (so that the rest of a body
 * can be valid while one field is not), a malformed value of its own type
 * (NUL and unicode strings, numbers out of range), the declared structure with
 * malformed members and extra fields, or a value of the wrong type.
 */
function fromSchema(document: Json, node: Json | undefined, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(document, node) ?? {};
  if (depth > 6) return scalar;
  const options: fc.WeightedArbitrary<unknown>[] = [{ weight: 1, arbitrary: value }];
  if (schema.example !== undefined) options.push({ weight: 2, arbitrary: fc.constant(schema.example) });
  if (Array.isArray(schema.enum) && schema.enum.length) options.push({ weight: 2, arbitrary: fc.constantFrom(...schema.enum) });
  for (const alternative of [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])]) {
    options.push({ weight: 2, arbitrary: fc.constant(null).chain(() => fromSchema(document, alternative, depth + 1)) });
  }
  const properties: Record<string, Json> = schema.properties ?? {};
  if (Object.keys(properties).length) {
    const members = fc.record(
      Object.fromEntries(Object.entries(properties).map(([name, child]) => [name, fc.constant(null).chain(() => fromSchema(document, child, depth + 1))])),
      { requiredKeys: [] },
    );
    const extra = fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 2 });
    options.push({ weight: 5, arbitrary: fc.tuple(members, fc.oneof(fc.constant({}), extra)).map(([known, more]) => ({ ...more, ...known })) });
  }
  if (schema.type === 'array') {
    options.push({ weight: 4, arbitrary: fc.array(fc.constant(null).chain(() => fromSchema(document, schema.items, depth + 1)), { maxLength: 3 }) });
  }
  if (schema.type === 'string') options.push({ weight: 4, arbitrary: nastyString });
  if (schema.type === 'integer' || schema.type === 'number') options.push({ weight: 4, arbitrary: badNumber });
  if (schema.type === 'boolean') options.push({ weight: 1, arbitrary: fc.boolean() });
  return fc.oneof(...options);
}

function bodyArbitrary(document: Json, op: Operation): fc.Arbitrary<string | undefined> {
  if (op.method === 'GET') return fc.constant(undefined);
  const schemas = Object.values<Json>(resolve(document, op.operation.requestBody)?.content ?? {}).map((media) => media.schema);
  // A route that declares no body still gets one (extra fields where none is taken).
  const declared = schemas.length ? fc.oneof(...schemas.map((schema) => fromSchema(document, schema))) : fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 4 });
  return fc.oneof(
    { weight: 6, arbitrary: declared.map(toJson) },
    { weight: 1, arbitrary: fc.constantFrom('{}', '[]', 'null', '""', '0', '"\\u0000"', '{"a":"\\u0000"}', '[{"a":[{"b":"\\u0000"}]}]') },
    { weight: 1, arbitrary: deepNest().map((raw) => raw.text) },
    { weight: 1, arbitrary: value.map(toJson) },
  );
}

/** Values that travel in the URL stay under Node's 16 KiB header limit (the 431 answer is the HTTP layer's, tested elsewhere). */
const urlString = nastyString.filter((s) => s.length < 3000);

function queryArbitrary(document: Json, op: Operation): fc.Arbitrary<string> {
  const parameters: Json[] = (op.operation.parameters ?? []).map((p: Json) => resolve(document, p) ?? {}).filter((p: Json) => p.in === 'query');
  // A parameter's values: malformed strings, or its example/enum value (so that another one can be the bad one).
  const valuesOf = (p: Json): fc.Arbitrary<string> => {
    const schema = resolve(document, p.schema) ?? {};
    const good = [p.example, schema.example, ...(schema.enum ?? [])].filter((v) => v !== undefined).map(String);
    return good.length ? fc.oneof({ weight: 3, arbitrary: urlString }, { weight: 1, arbitrary: fc.constantFrom(...good) }) : urlString;
  };
  const named = parameters.filter((p) => !(resolve(document, p.schema)?.type === 'object'));
  const pair = (p: Json) =>
    fc.oneof(valuesOf(p).map((v) => [[p.name as string, v]]), fc.array(valuesOf(p), { minLength: 2, maxLength: 3 }).map((vs) => vs.map((v) => [p.name as string, v])));
  const known = fc.tuple(...named.map((p) => fc.option(pair(p), { nil: undefined, freq: 3 })));
  const extra = fc.array(fc.tuple(nastyString.filter((s) => s.length < 64), urlString), { maxLength: 2 });
  return fc.tuple(known, extra).map(([chosen, more]) => {
    const pairs = [...(chosen as (string[][] | undefined)[]).flatMap((p) => p ?? []), ...more];
    return pairs.length ? `?${pairs.map(([k, v]) => `${encodePart(k)}=${encodePart(v)}`).join('&')}` : '';
  });
}

/** A path parameter: encoded bytes, or raw text a client could send that does not decode. */
const pathValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: urlString.filter((s) => s.length > 0).map(encodePart) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '%00%00', '..%2F..%2F', '%2e%2e') },
);

function requestArbitrary(document: Json, op: Operation): fc.Arbitrary<FuzzRequest> {
  const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  return fc.record({ params: fc.tuple(...names.map(() => pathValue)), query: queryArbitrary(document, op), body: bodyArbitrary(document, op) }).map(({ params, query, body }) => {
    let index = 0;
    const url = op.path.replace(/\{[^}]+\}/g, () => (params as string[])[index++]) + query;
    return { url, body };
  });
}

/**
 * Fixed probes sent before the random runs, so the known dangers are tried on
 * every declared input whatever the seed: a NUL in each path parameter, each
 * query parameter and each top-level body field (the others at their
 * examples), and JSON nested 5,000 levels deep.
 */
function probes(document: Json, op: Operation): FuzzRequest[] {
  const NUL = 'a\u0000b';
  const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const pathWith = (bad?: string) => op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodePart(name === bad ? NUL : 'probe'));
  const list: FuzzRequest[] = names.map((name) => ({ url: pathWith(name), body: op.method === 'GET' ? undefined : '{}' }));
  const query: Json[] = (op.operation.parameters ?? []).map((p: Json) => resolve(document, p) ?? {}).filter((p: Json) => p.in === 'query' && typeof p.name === 'string');
  for (const p of query) list.push({ url: `${pathWith()}?${encodePart(p.name)}=${encodePart(NUL)}` });
  if (op.method !== 'GET') {
    list.push({ url: pathWith(), body: '['.repeat(5000) + ']'.repeat(5000) });
    list.push({ url: pathWith(), body: '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) });
    for (const media of Object.values<Json>(resolve(document, op.operation.requestBody)?.content ?? {})) {
      const schema = resolve(document, media.schema) ?? {};
      const properties = Object.entries<Json>(schema.properties ?? {});
      const examples = Object.fromEntries(properties.map(([name, child]) => [name, resolve(document, child)?.example]).filter(([, v]) => v !== undefined));
      for (const [name] of properties) list.push({ url: pathWith(), body: JSON.stringify({ ...examples, [name]: NUL }) });
    }
  }
  return list;
}

// ---- the error shapes of spec/README.md ("Errors: one global filter, chosen by mount") ----

const isStringRecord = (v: unknown, each: (x: unknown) => boolean) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every(each);

function shapeProblem(mount: Mount, status: number, body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object';
  const b = body as Json;
  const keys = Object.keys(b);
  switch (mount) {
    case 'astakos': {
      const fault = (errorSchema('astakos', status).required as string[])[0];
      if (keys.length !== 1 || keys[0] !== fault) return `expected a Synnefo ${fault} fault`;
      if (b[fault]?.code !== status || typeof b[fault]?.message !== 'string') return 'the fault has no code or message';
      return undefined;
    }
    case 'almanach':
      if (keys.join() !== 'error') return 'expected {error}';
      return typeof b.error === 'string' || isStringRecord(b.error, (x) => typeof x === 'string') ? undefined : 'error is neither a string nor per-field messages';
    case 'allocations':
      if (typeof b.error !== 'string' || keys.some((k) => k !== 'error' && k !== 'fields')) return 'expected {error, fields?}';
      return b.fields === undefined || isStringRecord(b.fields, (x) => Array.isArray(x) && x.every((m) => typeof m === 'string')) ? undefined : 'fields is not {field: [messages]}';
    default:
      if (typeof b.error !== 'string' || keys.some((k) => k !== 'error' && k !== 'fields')) return 'expected {error, fields?}';
      return b.fields === undefined || isStringRecord(b.fields, (x) => typeof x === 'string') ? undefined : 'fields is not {field: message}';
  }
}

/** A stable number per operation, so each one's run does not depend on the others' order. */
function seedOf(key: string): number {
  let hash = SEED | 0;
  for (const c of key) hash = (Math.imul(hash, 31) + c.charCodeAt(0)) | 0;
  return hash;
}

const shorten = (text: string, max = 160) => {
  const printable = JSON.stringify(text);
  return printable.length > max ? `${printable.slice(0, max)}… (${text.length} chars)` : printable;
};

describe('fuzz: malformed values at every declared input', () => {
  let t: TestApp;
  let siteHeaders: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    await t.reset();
    const site = await t.http.post('/admin/sites').set('X-Auth-Token', ADMIN_TOKEN).send({ name: 'fuzz-site' }).expect(201);
    siteHeaders = { 'XA-Site': 'fuzz-site', 'XA-API-Key': site.body.api_key };
  }, APP_START_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
  });

  it('never answers 5xx, answers every 4xx in the mount error shape, and stays healthy', async () => {
    const document: Json = (await t.http.get('/docs/json').expect(200)).body;
    const operations: Operation[] = Object.entries<Json>(document.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ key: `${m.toUpperCase()} ${path}`, method: m.toUpperCase(), path, mount: mountOf(path), operation: item[m] })),
    );
    expect(operations.length).toBeGreaterThan(100);

    // Every failure of every operation, one example per kind (status and problem), so one
    // run lists them all instead of stopping at the first.
    const failures = new Map<string, string>();
    let requests = 0;
    for (const op of operations) {
      const samples = [...probes(document, op), ...fc.sample(requestArbitrary(document, op), { seed: seedOf(op.key), numRuns: RUNS })];
      for (const req of samples) {
        requests++;
        let call = t.http[op.method.toLowerCase() as 'get'](req.url)
          .timeout(20000)
          .set(op.mount === 'amie' ? siteHeaders : { 'X-Auth-Token': ADMIN_TOKEN });
        if (req.body !== undefined) call = call.set('Content-Type', 'application/json').send(req.body);
        let problem: { kind: string; detail: string } | undefined;
        try {
          const res = await call.ok(() => true);
          if (res.status >= 500) problem = { kind: `${res.status}`, detail: `answered ${res.status} ${shorten(res.text, 200)}` };
          else if (res.status >= 400) {
            const shape = shapeProblem(op.mount, res.status, res.body);
            const code = typeof res.body?.code === 'string' ? ` ${res.body.code}` : '';
            if (shape) problem = { kind: `${res.status}${code} shape`, detail: `answered ${res.status} not in the ${op.mount} shape (${shape}): ${shorten(res.text, 200)}` };
          }
        } catch (error) {
          problem = { kind: 'no answer', detail: `no answer: ${(error as Error).message}` };
        }
        const key = `${op.key} → ${problem?.kind}`;
        if (problem && !failures.has(key)) {
          failures.set(key, `${op.key}: ${problem.detail}\n    request: ${op.method} ${shorten(req.url)}${req.body !== undefined ? ` body ${shorten(req.body)}` : ''}`);
        }
      }
    }

    const health = await t.http.get('/health');
    expect({ health: health.status, requests: requests >= operations.length }).toEqual({ health: 200, requests: true });
    expect([...failures.values()]).toEqual([]);
  }, 15 * 60 * 1000);
});
