import { FastifyInstance } from 'fastify';
import { mountOf } from './mounts';

/**
 * JSON with every character past U+007F written as a `\uXXXX` escape (UTF-16
 * code units, lowercase hex, as Python's `json.dumps` writes them by default).
 * Only string contents can hold such characters, so the document means the
 * same; it is only longer.
 */
export function asciiJson(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The `/astakos` mount answers ASCII-only JSON, as Astakos itself does
 * (Django's `json.dumps`, `ensure_ascii`): astakosclient runs on Python 2 and
 * reads an answer with `json.loads(unicode(data))`, which decodes the bytes as
 * ASCII, so a token or commission named `José` in raw UTF-8 would fail every
 * call that returns it (InvalidResponse).
 */
export function registerAsciiJson(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || mountOf(request.url) !== 'astakos') return payload;
    if (!String(reply.getHeader('content-type') ?? '').includes('json')) return payload;
    return asciiJson(payload);
  });
}
