import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { useTestApp } from '../support/test-app';

// The quotas routes in the OpenAPI document (issue 8, "OpenAPI worth
// reading"): each with its own operation id, its tag, its security, the
// schema of every input and of the success and error answers in the mount's
// shape. The document is built from the running application, as /docs is.

type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};

const ACCOUNT_ROUTES: [string, string, string][] = [
  ['get', '/resources', 'resources'],
  ['get', '/quotas', 'userQuotas'],
  ['get', '/service_quotas', 'serviceQuotas'],
  ['get', '/service_project_quotas', 'serviceProjectQuotas'],
  ['post', '/commissions', 'issueCommission'],
  ['get', '/commissions', 'pendingCommissions'],
  ['post', '/commissions/action', 'resolveCommissions'],
  ['get', '/commissions/{serial}', 'commission'],
  ['post', '/commissions/{serial}/action', 'resolveCommission'],
];

describe('quotas in the OpenAPI document', () => {
  const t = useTestApp();
  let doc: OpenAPIObject;

  beforeAll(() => {
    doc = SwaggerModule.createDocument(t.app, new DocumentBuilder().addApiKey({ type: 'apiKey', in: 'header', name: 'X-Auth-Token' }, 'token').build());
  });

  const op = (method: string, path: string): Operation => {
    const operation = (doc.paths[path] as Record<string, Operation> | undefined)?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return operation;
  };

  it('lists every account route under both mounts with ids of their own, tagged astakos', () => {
    for (const [method, path, name] of ACCOUNT_ROUTES) {
      expect(op(method, `/astakos/account/v1.0${path}`)).toMatchObject({ operationId: `astakos.${name}`, tags: ['astakos'] });
      expect(op(method, `/astakos/api${path}`)).toMatchObject({ operationId: `astakos.${name}Alias`, tags: ['astakos'] });
    }
    expect(op('post', '/astakos/identity/v2.0/tokens')).toMatchObject({ operationId: 'astakos.tokens', tags: ['astakos'] });
  });

  it('has unique operation ids with no [n] suffix across the quotas routes', () => {
    const ids = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/astakos') || path.startsWith('/admin/quotas'))
      .flatMap(([, item]) => Object.values(item as Record<string, Operation>).map((o) => o.operationId ?? ''));
    expect(ids.length).toBe(ACCOUNT_ROUTES.length * 2 + 1 + 5);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(astakos|admin)\.[a-z][A-Za-z]*$/);
  });

  it('marks the anonymous routes as such and the others with the token scheme', () => {
    expect(op('get', '/astakos/account/v1.0/resources').security).toBeUndefined();
    expect(op('post', '/astakos/identity/v2.0/tokens').security).toBeUndefined();
    for (const [method, path] of ACCOUNT_ROUTES.slice(1)) expect(op(method, `/astakos/account/v1.0${path}`).security).toEqual([{ token: [] }]);
    expect(op('put', '/admin/quotas/holdings').security).toEqual([{ token: [] }]);
    expect(op('get', '/admin/quotas/holdings')).toMatchObject({ operationId: 'admin.listQuotaHoldings', tags: ['admin'] });
  });

  it('declares the inputs: bodies, query and path parameters', () => {
    const body = (o: Operation) => o.requestBody?.content['application/json']?.schema;
    for (const [method, path] of [
      ['post', '/astakos/account/v1.0/commissions'],
      ['post', '/astakos/account/v1.0/commissions/action'],
      ['post', '/astakos/account/v1.0/commissions/{serial}/action'],
      ['post', '/astakos/identity/v2.0/tokens'],
      ['put', '/admin/quotas/resources/{name}'],
      ['put', '/admin/quotas/holdings'],
    ]) {
      expect(body(op(method, path))).toEqual({ $ref: expect.stringMatching(/^#\/components\/schemas\/\w+Dto$/) });
    }
    const schemas = doc.components!.schemas as Record<string, { properties: Record<string, unknown>; required?: string[] }>;
    expect(schemas.IssueCommissionDto.required).toEqual(['provisions']);
    expect(schemas.ProvisionDto.required).toEqual(['holder', 'source', 'resource', 'quantity']);
    expect(schemas.LimitEntryDto.properties.limit).toMatchObject({ type: 'integer', minimum: 0 });
    const names = (o: Operation, where: string) => (o.parameters ?? []).filter((p) => p.in === where).map((p) => p.name).sort();
    expect(names(op('get', '/astakos/account/v1.0/service_quotas'), 'query')).toEqual(['project', 'user']);
    expect(names(op('get', '/astakos/account/v1.0/service_project_quotas'), 'query')).toEqual(['project']);
    expect(names(op('get', '/astakos/account/v1.0/commissions/{serial}'), 'path')).toEqual(['serial']);
    expect(names(op('delete', '/admin/quotas/resources/{name}'), 'path')).toEqual(['name']);
    expect(names(op('get', '/admin/quotas/holdings'), 'query')).toEqual(['holder', 'resource', 'source']);
  });

  it('gives success schemas and errors in the mount’s shape', () => {
    const schemaOf = (o: Operation, status: string) => o.responses[status]?.content?.['application/json']?.schema;
    expect(schemaOf(op('post', '/astakos/account/v1.0/commissions'), '201')).toEqual({ $ref: '#/components/schemas/SerialAnswer' });
    expect(schemaOf(op('get', '/astakos/account/v1.0/service_quotas'), '200')).toMatchObject({ type: 'object', additionalProperties: expect.any(Object) });
    expect(schemaOf(op('post', '/astakos/account/v1.0/commissions'), '413')).toMatchObject({ required: ['overLimit'] });
    expect(schemaOf(op('get', '/astakos/account/v1.0/commissions/{serial}'), '404')).toMatchObject({ required: ['itemNotFound'] });
    expect(schemaOf(op('put', '/admin/quotas/holdings'), '400')).toMatchObject({ required: ['error'] });
    expect(schemaOf(op('get', '/admin/quotas/holdings'), '200')).toEqual({ $ref: '#/components/schemas/HoldingsAnswer' });
    expect(op('delete', '/admin/quotas/resources/{name}').responses['204']).toBeDefined();
    expect(op('delete', '/admin/quotas/resources/{name}').responses['409']).toBeDefined();
  });
});
