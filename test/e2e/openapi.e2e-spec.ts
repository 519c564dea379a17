import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { DOCS_PATH, servedRoutes } from '../../src/http/openapi-document';
import { errorSchema } from '../../src/http/openapi';
import { mountOf } from '../../src/http/mounts';
import { useTestApp } from '../support/test-app';

/**
 * The OpenAPI document (issue 8, item 6): a valid OpenAPI 3 document that
 * lists exactly the routes the server serves, declares a schema for every
 * input a handler takes, marks anonymous routes, and is browsable at /docs
 * with Swagger UI served by the app itself.
 */

type Json = Record<string, any>;

/**
 * Runs @apidevtools/swagger-parser (ESM only, so in a child Node process) on
 * the document text: `validate` checks it against the OpenAPI schema and its
 * own rules (unique operation ids, declared path parameters…), `parse` reads it.
 */
async function swaggerParser(mode: 'validate' | 'parse', text: string, extension: 'json' | 'yaml'): Promise<{ ok: boolean; error?: string; document?: Json }> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  try {
    const file = join(dir, `openapi.${extension}`);
    writeFileSync(file, text);
    const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '../support/openapi-validate.mjs'), mode, file], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Op {
  key: string; // "GET /v1/entity/{entity_id}"
  method: string;
  path: string;
  operation: Json;
}

function operationsOf(document: Json): Op[] {
  const ops: Op[] = [];
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    for (const method of METHODS) {
      if (item[method]) ops.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, operation: item[method] });
    }
  }
  return ops;
}

/** `/v1/entity/:entity_id/` → `/v1/entity/{entity_id}`, the document's template. */
function toTemplate(url: string): string {
  const path = ('/' + url).replace(/\/+/g, '/').replace(/\/$/, '') || '/';
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function resolve(document: Json, schema: Json | undefined): Json | undefined {
  let current = schema;
  for (let i = 0; current && typeof current.$ref === 'string' && i < 10; i++) {
    current = current.$ref.replace(/^#\//, '').split('/').reduce((node: Json | undefined, part: string) => node?.[part], document);
  }
  return current;
}

/** A schema that says something: not `{}` and not a bare `{type: object}` without properties. */
function isNonEmptySchema(document: Json, schema: Json | undefined): boolean {
  const resolved = resolve(document, schema);
  if (!resolved || typeof resolved !== 'object') return false;
  if (['oneOf', 'anyOf', 'allOf'].some((k) => Array.isArray(resolved[k]) && resolved[k].length > 0)) return true;
  if (resolved.type === 'array') return isNonEmptySchema(document, resolved.items);
  if (resolved.type && resolved.type !== 'object') return true;
  if (resolved.properties && Object.keys(resolved.properties).length > 0) return true;
  if (resolved.additionalProperties && typeof resolved.additionalProperties === 'object') return isNonEmptySchema(document, resolved.additionalProperties);
  return false;
}

interface Handler {
  name: string; // Controller.method
  method: string;
  paths: string[];
  body: boolean;
  query: (string | undefined)[]; // @Query('name') → name; @Query() → undefined
  params: (string | undefined)[];
}

/** Every controller handler with the inputs it takes (@Body, @Query, @Param), read from Nest's own metadata. */
function handlersOf(modules: ModulesContainer): Handler[] {
  const handlers: Handler[] = [];
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!type) continue;
      const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const fn = type.prototype[name];
        if (name === 'constructor' || typeof fn !== 'function' || Reflect.getMetadata(METHOD_METADATA, fn) === undefined) continue;
        const own = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, fn) ?? '');
        const args = Object.entries<{ data?: unknown }>(Reflect.getMetadata(ROUTE_ARGS_METADATA, type, name) ?? {});
        const ofType = (paramtype: RouteParamtypes) =>
          args.filter(([key]) => Number(key.split(':')[0]) === paramtype).map(([, arg]) => (typeof arg.data === 'string' ? arg.data : undefined));
        handlers.push({
          name: `${type.name}.${name}`,
          method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod],
          paths: prefixes.flatMap((prefix) => own.map((path) => toTemplate(`${prefix}/${path}`))),
          body: ofType(RouteParamtypes.BODY).length > 0 || ofType(RouteParamtypes.RAW_BODY).length > 0,
          query: ofType(RouteParamtypes.QUERY),
          params: ofType(RouteParamtypes.PARAM),
        });
      }
    }
  }
  return handlers;
}

describe('OpenAPI document', () => {
  const t = useTestApp();
  let document: Json;
  let ops: Op[];

  beforeAll(async () => {
    const res = await t.http.get(`${DOCS_PATH}/json`).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    document = res.body;
    ops = operationsOf(document);
  });

  it('is a valid OpenAPI 3 document', async () => {
    expect(document.openapi).toMatch(/^3\./);
    expect(await swaggerParser('validate', JSON.stringify(document), 'json')).toEqual({ ok: true });
  });

  it('lists every route the server serves, with the same path template and method, and nothing it does not serve', () => {
    const routes = servedRoutes(t.app).filter((route) => route.url !== DOCS_PATH && !route.url.startsWith(`${DOCS_PATH}/`));
    const gets = new Set(routes.filter((route) => route.method === 'GET').map((route) => toTemplate(route.url)));
    const served = new Set(
      routes
        // Fastify's automatic HEAD of every GET route is not an operation of its own.
        .filter((route) => !(route.method === 'HEAD' && gets.has(toTemplate(route.url))))
        .map((route) => `${route.method} ${toTemplate(route.url)}`),
    );
    const documented = new Set(ops.map((op) => op.key));
    const missing = [...served].filter((key) => !documented.has(key)).sort();
    const phantom = [...documented].filter((key) => !served.has(key)).sort();
    expect({ missing, phantom }).toEqual({ missing: [], phantom: [] });
    expect(served.size).toBeGreaterThan(100);
  });

  it('gives every operation a unique id without an alias index', () => {
    const ids = ops.map((op) => op.operation.operationId as string);
    expect(ids.filter((id) => typeof id !== 'string' || /\[\d+\]/.test(id))).toEqual([]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    // Aliases keep the advertised prefix's id and get a derived one.
    const ids1 = Object.fromEntries(ops.map((op) => [op.key, op.operation.operationId]));
    expect(ids1['GET /v1/info']).toBe('almanach.getInfo');
    expect(ids1['GET /info']).toBe('almanach.getInfo.alias');
    const alias = document.paths['/info'].get;
    expect(alias).toMatchObject({ operationId: 'almanach.getInfo.alias', 'x-alias-of': 'almanach.getInfo' });
    expect(alias.description).toContain('`GET /v1/info`');
  });

  it('declares a schema for every input a handler takes: path parameters, query parameters and body', () => {
    const byKey = new Map(ops.map((op) => [op.key, op]));
    const handlers = handlersOf(t.app.get(ModulesContainer));
    expect(handlers.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const handler of handlers) {
      for (const path of handler.paths) {
        const op = byKey.get(`${handler.method} ${path}`);
        if (!op) {
          offenders.push(`${handler.name}: ${handler.method} ${path} is not in the document`);
          continue;
        }
        const parameters: Json[] = (op.operation.parameters ?? []).map((p: Json) => resolve(document, p) ?? {});
        const declared = (where: string, name: string) =>
          parameters.some((p) => p.in === where && p.name === name && isNonEmptySchema(document, p.schema));
        for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
          if (!declared('path', name)) offenders.push(`${handler.name}: ${op.key} path parameter ${name} has no schema`);
        }
        for (const name of handler.query) {
          const ok = name ? declared('query', name) : parameters.some((p) => p.in === 'query' && isNonEmptySchema(document, p.schema));
          if (!ok) offenders.push(`${handler.name}: ${op.key} query ${name ?? '(object)'} has no declared parameter`);
        }
        if (handler.body) {
          const content: Json = op.operation.requestBody ? (resolve(document, op.operation.requestBody)?.content ?? {}) : {};
          const schemas = Object.values<Json>(content).map((media) => media.schema);
          if (schemas.length === 0 || !schemas.every((schema) => isNonEmptySchema(document, schema))) {
            offenders.push(`${handler.name}: ${op.key} request body has no schema (${JSON.stringify(schemas.map((s) => resolve(document, s)))})`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('documents Idempotency-Key and its 409 on every POST under /reports and /admin/reports (reports.md 1.8)', () => {
    const writes = ops.filter((op) => op.key.startsWith('POST /reports/') || op.key.startsWith('POST /admin/reports/'));
    expect(writes.length).toBeGreaterThanOrEqual(2);
    const offenders = writes
      .filter((op) => {
        const parameters: Json[] = (op.operation.parameters ?? []).map((p: Json) => resolve(document, p) ?? {});
        return !parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key') || !op.operation.responses?.['409'];
      })
      .map((op) => op.key);
    expect(offenders).toEqual([]);
  });

  it('declares a success answer, and its error answers in the shape of the mount', () => {
    const offenders: string[] = [];
    for (const op of ops) {
      const responses: Json = op.operation.responses ?? {};
      // A route that exists only to refuse (x-always-refused) has no success answer to declare.
      if (!op.operation['x-always-refused'] && !Object.keys(responses).some((status) => /^2\d\d$/.test(status))) {
        offenders.push(`${op.key}: no success response`);
      }
      const mount = mountOf(op.path);
      const needed = [...(op.operation.security?.length ? [401] : []), ...((op.operation.parameters?.length || op.operation.requestBody) ? [400] : [])];
      for (const status of needed) if (!responses[status]) offenders.push(`${op.key}: no ${status} response`);
      for (const [status, response] of Object.entries<Json>(responses)) {
        if (!/^[45]\d\d$/.test(status)) continue;
        const schema = resolve(document, resolve(document, response)?.content?.['application/json']?.schema);
        if (JSON.stringify(schema) !== JSON.stringify(errorSchema(mount, Number(status)))) {
          offenders.push(`${op.key}: ${status} is not in the ${mount} error shape`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('tags every operation with its protocol, and lists the tags', () => {
    const protocolTag: Record<string, string> = { almanach: 'almanach', amie: 'amie', astakos: 'astakos', allocations: 'allocations', admin: 'admin' };
    const wrong = ops.filter((op) => {
      const mount = mountOf(op.path);
      const expected = protocolTag[mount] ?? op.path.split('/')[1];
      return JSON.stringify(op.operation.tags) !== JSON.stringify([expected]);
    });
    expect(wrong.map((op) => `${op.key}: ${JSON.stringify(op.operation.tags)}`)).toEqual([]);
    const used = new Set(ops.flatMap((op) => op.operation.tags));
    expect(new Set((document.tags as Json[]).map((tag) => tag.name))).toEqual(used);
    for (const tag of document.tags as Json[]) if (tag.name !== 'health') expect(tag.description).toEqual(expect.any(String));
  });

  it('has the security schemes, and marks exactly the routes that answer without a credential as anonymous', async () => {
    expect(document.components.securitySchemes).toEqual({
      token: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Auth-Token' }),
      'amie-site': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'XA-Site' }),
      'amie-key': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'XA-API-Key' }),
    });
    const offenders: string[] = [];
    for (const op of ops) {
      const security = op.operation.security as Json[] | undefined;
      if (!Array.isArray(security)) {
        offenders.push(`${op.key}: no security declared`);
        continue;
      }
      const expected = op.path.startsWith('/amie/') ? [{ 'amie-site': [], 'amie-key': [] }] : [{ token: [] }];
      if (security.length > 0 && JSON.stringify(security) !== JSON.stringify(expected)) offenders.push(`${op.key}: security ${JSON.stringify(security)}`);
      const url = op.path.replace(/\{[^}]+\}/g, 'x');
      const res = await t.http[op.method.toLowerCase() as 'get'](url);
      if (security.length === 0 && (res.status === 401 || res.status === 403)) offenders.push(`${op.key}: anonymous in the document, answers ${res.status}`);
      if (security.length > 0 && res.status !== 401) offenders.push(`${op.key}: needs a credential in the document, answers ${res.status} without one`);
    }
    expect(offenders).toEqual([]);
    const anonymous = ops.filter((op) => Array.isArray(op.operation.security) && op.operation.security.length === 0).map((op) => op.key);
    expect(anonymous).toEqual(expect.arrayContaining(['GET /v1/info', 'GET /info', 'GET /health', 'POST /astakos/identity/v2.0/tokens']));
  });

  it('serves the same document as YAML at /docs/yaml', async () => {
    const res = await t.http.get(`${DOCS_PATH}/yaml`).buffer(true).parse((r, done) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      r.on('end', () => done(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/yaml/);
    expect(await swaggerParser('parse', res.body as string, 'yaml')).toEqual({ ok: true, document });
  });

  it('serves Swagger UI at /docs from same-origin files of swagger-ui-dist', async () => {
    const page = await t.http.get(DOCS_PATH).set('Accept', 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const html = page.text;
    expect(html).toContain('id="swagger-ui"');
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThanOrEqual(5);
    // Only paths on this origin: no scheme, no protocol-relative //host.
    expect(urls.filter((url) => !/^\/(?!\/)/.test(url))).toEqual([]);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script (the CSP forbids it)
    for (const url of urls) {
      const asset = await t.http.get(url).buffer(true).parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (chunk: Buffer) => chunks.push(chunk));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
      expect((asset.body as Buffer).length).toBeGreaterThan(100);
      if (url.endsWith('.js')) expect(asset.headers['content-type']).toMatch(/javascript/);
      if (url.endsWith('.css')) expect(asset.headers['content-type']).toMatch(/^text\/css/);
    }
    const bundle = await t.http.get(`${DOCS_PATH}/swagger-ui-bundle.js`).expect(200);
    expect(bundle.text).toContain('SwaggerUIBundle');
    const init = await t.http.get(`${DOCS_PATH}/swagger-initializer.js`).expect(200);
    expect(init.text).toContain(`"${DOCS_PATH}/json"`);
    expect(init.text).not.toMatch(/https?:\/\//);
    expect(init.text).toContain('validatorUrl: null'); // no badge fetched from validator.swagger.io
  });

  it('still answers the JSON document at /docs to a client that does not ask for HTML', async () => {
    const res = await t.http.get(DOCS_PATH).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(document);
  });
});
