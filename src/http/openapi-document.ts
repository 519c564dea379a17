import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { mountOf } from './mounts';
import { ANONYMOUS_EXTENSION, errorResponse, SECURITY_AMIE, SECURITY_TOKEN } from './openapi';

/** Where the document and its UI live: `/docs` (UI for browsers), `/docs/json`, `/docs/yaml`. */
export const DOCS_PATH = '/docs';

/** One route as Fastify registered it: method and URL template (`/v1/entity/:entity_id`). */
export interface ServedRoute {
  method: string;
  url: string;
}

export interface OpenApiOptions {
  title: string;
  description: string;
  version: string;
}

/** One tag per protocol (and the service's own routes), in the order the UI lists them. */
const TAGS: { name: string; description: string }[] = [
  { name: 'almanach', description: 'Almanach v1: instance and volume history (almanach-v1.md), under /v1 and unprefixed' },
  { name: 'amie', description: 'AMIE usage: usage records pushed by sites (amie-usage.md), XA-Site + XA-API-Key' },
  { name: 'astakos', description: 'Astakos quotas and commissions (quotas.md), Synnefo faults' },
  { name: 'allocations', description: 'Nectar allocations (allocations.md), under /allocations/v1 and /allocations' },
  { name: 'admin', description: 'Administration: tokens, sites, quota resources and holdings, quota mappings (admin token)' },
  { name: 'reports', description: 'Usage reports from the rollups, the flavor catalogue and the operator views (reports.md), X-Auth-Token' },
  { name: 'dashboard', description: 'The dashboard page and its static files (reports.md §8): no credential, no data' },
  { name: 'health', description: 'Liveness of the service and its dependencies' },
  { name: 'metrics', description: 'Prometheus metrics (reports.md §9.1), no credential' },
];

/** The swagger-ui-dist files the page loads, served by the app itself (no CDN, no static-file plugin). */
const UI_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Only same-origin scripts, styles and calls; inline styles and data: images are Swagger UI's own. */
const UI_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const servedByApp = new WeakMap<object, ServedRoute[]>();

/**
 * Every route the app's Fastify instance registered (recorded with an onRoute
 * hook by setupOpenApi), including the documentation's own routes under
 * DOCS_PATH and Fastify's automatic HEAD of each GET route.
 */
export function servedRoutes(app: NestFastifyApplication): readonly ServedRoute[] {
  const routes = servedByApp.get(app);
  if (!routes) throw new Error('setupOpenApi was not called on this app');
  return routes;
}

/**
 * Serves the OpenAPI document at /docs/json and /docs/yaml and Swagger UI at
 * /docs (a client that does not ask for HTML gets the JSON document there, as
 * it always did). Call before app.init(): the document is built on first
 * request, once every controller's route is registered, then finished by
 * finishDocument.
 */
export function setupOpenApi(app: NestFastifyApplication, options: OpenApiOptions): void {
  const fastify = app.getHttpAdapter().getInstance();
  const routes: ServedRoute[] = [];
  servedByApp.set(app, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push({ method: method.toUpperCase(), url: route.url });
  });

  let document: OpenAPIObject | undefined;
  const build = (): OpenAPIObject => {
    document ??= finishDocument(
      SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle(options.title)
          .setDescription(options.description)
          .setVersion(options.version)
          .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'A token from POST /admin/tokens (or ADMIN_TOKEN)' }, SECURITY_TOKEN)
          .addApiKey({ type: 'apiKey', in: 'header', name: 'XA-Site', description: 'AMIE site name (with amie-key)' }, Object.keys(SECURITY_AMIE)[0])
          .addApiKey({ type: 'apiKey', in: 'header', name: 'XA-API-Key', description: 'AMIE site key from POST /admin/sites (with amie-site)' }, Object.keys(SECURITY_AMIE)[1])
          .build(),
      ),
    );
    return document;
  };

  SwaggerModule.setup(DOCS_PATH.slice(1), app, build, {
    ui: false,
    raw: ['json', 'yaml'],
    jsonDocumentUrl: `${DOCS_PATH}/json`,
    yamlDocumentUrl: `${DOCS_PATH}/yaml`,
  });

  const uiDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, Buffer>();
  fastify.get(DOCS_PATH, (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('Vary', 'Accept');
    if (!wantsHtml(request.headers.accept)) return reply.type('application/json; charset=utf-8').send(JSON.stringify(build()));
    return reply.type('text/html; charset=utf-8').header('Content-Security-Policy', UI_CSP).send(uiPage());
  });
  fastify.get(`${DOCS_PATH}/swagger-initializer.js`, (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type('application/javascript; charset=utf-8').send(uiInitializer()),
  );
  for (const [file, type] of Object.entries(UI_ASSETS)) {
    fastify.get(`${DOCS_PATH}/${file}`, (_request: FastifyRequest, reply: FastifyReply) => {
      let content = assets.get(file);
      if (!content) assets.set(file, (content = readFileSync(join(uiDir, file))));
      return reply.type(type).header('Cache-Control', 'public, max-age=86400').send(content);
    });
  }
}

/** A browser asks for text/html; curl, supertest and API clients do not, and get the JSON document. */
function wantsHtml(accept: string | undefined): boolean {
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept ?? '');
}

function uiPage(): string {
  const base = DOCS_PATH;
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>usage-ledger API</title>
    <link rel="stylesheet" type="text/css" href="${base}/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="${base}/index.css" />
    <link rel="icon" type="image/png" href="${base}/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="${base}/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${base}/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="${base}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="${base}/swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
`;
}

function uiInitializer(): string {
  return `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(`${DOCS_PATH}/json`)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;
}

type Operation = Record<string, unknown> & {
  operationId?: string;
  description?: string;
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  tags?: string[];
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * The one post-processing step over what @nestjs/swagger generates:
 * - operation ids: a controller mounted under several prefixes gets ids
 *   `Ctrl_method[0]`, `[1]`…; the first prefix (the advertised one) keeps
 *   `Ctrl_method`, the others become `Ctrl_method.alias`, `.alias2`… and say
 *   which operation they are an alias of (`x-alias-of`, description);
 * - @Public() operations (ANONYMOUS_EXTENSION) get `security: []`, whatever
 *   their controller declares; repeated security requirements are merged;
 * - error answers every route gives whatever its controller says, declared in
 *   the mount's error shape when the controller did not: 401 where a
 *   credential is needed (the access guard runs first), 400 where the route
 *   takes input (malformed JSON, a NUL character, JSON nested too deep);
 * - an operation without a tag gets its protocol's (its mount's) tag, and the
 *   document lists the tags with a description.
 */
export function finishDocument(document: OpenAPIObject): OpenAPIObject {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.flatMap((method) => {
      const operation = (item as Record<string, Operation | undefined>)[method];
      return operation ? [{ path, method, operation }] : [];
    }),
  );
  // Where each aliased handler is advertised (its first prefix), to point the aliases at it.
  const advertised = new Map<string, string>();
  for (const { path, method, operation } of operations) {
    const alias = /^(.*)\[0\]$/.exec(operation.operationId ?? '');
    if (alias) advertised.set(alias[1], `${method.toUpperCase()} ${path}`);
  }
  for (const { path, operation } of operations) {
    const alias = /^(.*)\[[1-9]\d*\]$/.exec(operation.operationId ?? '');
    if (alias && advertised.has(alias[1])) {
      operation['x-alias-of'] = alias[1];
      operation.description = [`Alias of \`${advertised.get(alias[1])}\`: the same handler under another prefix.`, operation.description].filter(Boolean).join('\n\n');
    }
    finishOperation(operation, path);
  }
  // Controllers with explicit operation ids mounted under several prefixes give
  // every prefix the same id: the first occurrence (the advertised prefix,
  // registered first) keeps it, the others become `<id>.alias`, `.alias2`…
  const first = new Map<string, { path: string; method: string; count: number }>();
  for (const { path, method, operation } of operations) {
    const id = operation.operationId;
    if (!id) continue;
    const seen = first.get(id);
    if (!seen) {
      first.set(id, { path, method, count: 0 });
      continue;
    }
    seen.count += 1;
    operation.operationId = `${id}.alias${seen.count === 1 ? '' : seen.count}`;
    operation['x-alias-of'] = id;
    operation.description = [`Alias of \`${seen.method.toUpperCase()} ${seen.path}\`: the same handler under another prefix.`, operation.description]
      .filter(Boolean)
      .join('\n\n');
  }
  const used = new Set(Object.values(document.paths).flatMap((item) => HTTP_METHODS.flatMap((m) => ((item as Record<string, Operation | undefined>)[m]?.tags ?? []))));
  document.tags = [...TAGS.filter((tag) => used.has(tag.name)), ...[...used].filter((name) => !TAGS.some((tag) => tag.name === name)).sort().map((name) => ({ name }))];
  return document;
}

function finishOperation(operation: Operation, path: string): void {
  const alias = /^(.*)\[(\d+)\]$/.exec(operation.operationId ?? '');
  if (alias) {
    const index = Number(alias[2]);
    operation.operationId = index === 0 ? alias[1] : `${alias[1]}.alias${index === 1 ? '' : index}`;
  }
  if (operation[ANONYMOUS_EXTENSION]) {
    delete operation[ANONYMOUS_EXTENSION];
    operation.security = [];
  } else if (operation.security) {
    const seen = new Set<string>();
    operation.security = operation.security.filter((requirement) => {
      const key = JSON.stringify(Object.keys(requirement).sort());
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  const mount = mountOf(path);
  operation.responses ??= {};
  if (operation.security?.length) operation.responses['401'] ??= errorResponse(mount, 401);
  if ((Array.isArray(operation.parameters) && operation.parameters.length) || operation.requestBody) operation.responses['400'] ??= errorResponse(mount, 400);
  if (!operation.tags?.length) {
    operation.tags = [mount === 'own' ? (path.split('/')[1] ?? 'service') : mount];
  }
}
