import { FastifyInstance, FastifyRequest } from 'fastify';
import { CommonError, DomainError } from './domain-error';
import { mountOf } from './mounts';

/**
 * Headers whose values reach SQL (auth.md): the token is hashed first, the
 * AMIE site name is looked up as it is; all three are checked alike.
 */
const SQL_HEADERS: Record<string, string> = { 'x-auth-token': 'X-Auth-Token', 'xa-site': 'XA-Site', 'xa-api-key': 'XA-API-Key' };

const NUL = '\u0000';

/**
 * The first place in `value` (a string, or JSON-like arrays and objects at any
 * depth, keys included) holding a NUL character, named as a field path
 * (`project_ids[1]`, `a.b`); null when there is none. PostgreSQL refuses NUL
 * in text (`invalid byte sequence for encoding "UTF8": 0x00`), so no such
 * string may reach it. Iterative, so no input can exhaust the stack.
 */
export function findNul(value: unknown, path: string): string | null {
  const stack: { value: unknown; path: string }[] = [{ value, path }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      if (item.value.includes(NUL)) return item.path;
    } else if (Array.isArray(item.value)) {
      for (let i = item.value.length - 1; i >= 0; i--) stack.push({ value: item.value[i], path: `${item.path}[${i}]` });
    } else if (item.value !== null && typeof item.value === 'object') {
      const entries = Object.entries(item.value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        if (key.includes(NUL)) return item.path || 'request body';
        stack.push({ value: child, path: item.path ? `${item.path}.${key}` : key });
      }
    }
  }
  return null;
}

/** Where a request carries a NUL character the database would refuse; null when nowhere. */
export function nulField(request: Pick<FastifyRequest, 'params' | 'query' | 'headers' | 'body' | 'method' | 'url'>): string | null {
  const inParams = findNul(request.params, '');
  if (inParams !== null) return inParams || 'path';
  const inQuery = findNul(request.query, '');
  if (inQuery !== null) return inQuery || 'query string';
  for (const [name, label] of Object.entries(SQL_HEADERS)) {
    if (findNul(request.headers[name], label) !== null) return label;
  }
  // The AMIE submit route fails only the record that holds the NUL (amie-usage.md 4.6).
  if (request.method === 'POST' && mountOf(request.url) === 'amie') return null;
  const inBody = findNul(request.body, '');
  if (inBody !== null) return inBody || 'request body';
  return null;
}

/**
 * Refuses, before any guard or handler runs, a request whose path
 * parameters, query values, credential headers or body strings (JSON at any
 * depth, form values) hold a NUL character: `400` naming the field, rendered
 * in the mount's shape by the global filter. Registered after the body policy,
 * so the astakos body is checked once it is parsed.
 */
export function registerInputGuard(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request: FastifyRequest) => {
    const field = nulField(request);
    if (field === null) return;
    const problem = 'must not contain a NUL character (\\u0000)';
    // `fields` is keyed by the input's top-level name, as the DTO pipe and the allocations reader key theirs.
    const input = field.split(/[.[]/, 1)[0];
    throw new DomainError(CommonError.Validation, `${field}: ${problem}`, { fields: { [input]: problem } });
  });
}
