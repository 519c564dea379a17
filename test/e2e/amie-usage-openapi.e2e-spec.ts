import { spawnSync } from 'node:child_process';
import { USAGE_MESSAGE_SCHEMA } from '../../src/usage/usage-validation';
import { useTestApp } from '../support/test-app';

type Operation = {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema?: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};

/** The /amie part of the OpenAPI document (issue 8, item 6): each route declared from its one input declaration. */
describe('OpenAPI document: /amie', () => {
  const t = useTestApp();

  async function document(): Promise<{ openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, Record<string, unknown>> }> {
    // /docs/json once the document has a UI at /docs; /docs before.
    const json = await t.http.get('/docs/json');
    return json.status === 200 && json.body?.paths ? json.body : (await t.http.get('/docs').expect(200)).body;
  }

  const operations = async () => {
    const doc = await document();
    const list: [string, string, Operation][] = [];
    for (const [path, item] of Object.entries(doc.paths)) if (path.startsWith('/amie')) for (const [method, op] of Object.entries(item)) list.push([path, method, op]);
    return { doc, list };
  };

  it('lists the five routes, each with tag, operation id, site-key security, a success schema and errors in the AMIE shape', async () => {
    const { list } = await operations();
    expect(list.map(([path, method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`).sort()).toEqual([
      'DELETE /amie/usage/failed amie.clearNoFailedRecords',
      'DELETE /amie/usage/failed/{FailedRecordIDs} amie.clearFailedRecords',
      'GET /amie/usage/failed amie.listFailedRecords',
      'GET /amie/usage/status amie.getUsageStatus',
      'POST /amie/usage amie.submitUsage',
    ]);
    for (const [, , op] of list) {
      expect(op.tags).toEqual(['amie']);
      expect(op.security).toEqual([{ 'amie-site': [], 'amie-key': [] }]);
      expect(op.responses['200'].content?.['application/json'].schema).toBeDefined();
      for (const status of ['401', '403']) {
        expect(op.responses[status].content?.['application/json'].schema).toMatchObject({ required: ['error'], properties: { error: { type: 'string' } } });
      }
    }
  });

  it('registers the compiled message schema as the request body of POST /amie/usage, as is', async () => {
    const { list } = await operations();
    const [, , submit] = list.find(([, method]) => method === 'post')!;
    expect(submit.requestBody?.content['application/json'].schema).toEqual(JSON.parse(JSON.stringify(USAGE_MESSAGE_SCHEMA)));
    expect(Object.keys(submit.responses).sort()).toEqual(['200', '400', '401', '403', '413', '415']);
  });

  it('declares the status window and the ids of a clear as parameters', async () => {
    const { list } = await operations();
    const status = list.find(([path]) => path === '/amie/usage/status')![2];
    expect(status.parameters?.map((p) => [p.name, p.in, p.required])).toEqual([
      ['FromTime', 'query', false],
      ['ToTime', 'query', false],
    ]);
    const clear = list.find(([path]) => path === '/amie/usage/failed/{FailedRecordIDs}')![2];
    expect(clear.parameters).toEqual([expect.objectContaining({ name: 'FailedRecordIDs', in: 'path', required: true, schema: expect.objectContaining({ type: 'string' }) })]);
  });

  it('is a valid OpenAPI document', async () => {
    const { doc } = await operations();
    const amie = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => path.startsWith('/amie')));
    const securitySchemes = {
      'amie-site': { type: 'apiKey', in: 'header', name: 'XA-Site' },
      'amie-key': { type: 'apiKey', in: 'header', name: 'XA-API-Key' },
      ...(doc.components.securitySchemes ?? {}),
    };
    const subset = { ...doc, paths: amie, components: { ...doc.components, securitySchemes } };
    expect(validateOpenApi(subset)).toBe('valid');
    // The schemas are written so that a move of the document to OpenAPI 3.1 keeps them valid.
    expect(validateOpenApi({ ...subset, openapi: '3.1.0' })).toBe('valid');
  });
});

/**
 * swagger-parser loads an ES module that Jest's CommonJS runtime cannot
 * require, so it runs in a plain Node process (which can).
 */
function validateOpenApi(doc: object): string {
  const script = `
    const SwaggerParser = require('@apidevtools/swagger-parser');
    let text = '';
    process.stdin.on('data', (d) => (text += d)).on('end', () =>
      SwaggerParser.validate(JSON.parse(text)).then(() => process.stdout.write('valid'), (e) => process.stdout.write(String(e.message))));`;
  const run = spawnSync(process.execPath, ['-e', script], { input: JSON.stringify(doc), encoding: 'utf8', cwd: process.cwd() });
  return run.stdout || run.stderr;
}
