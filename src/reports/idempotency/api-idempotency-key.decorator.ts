import { applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ApiErrors } from '../../http/openapi';
import { Mount } from '../../http/mounts';
import { IDEMPOTENCY_HEADER } from './idempotency.service';

/**
 * Documents the `Idempotency-Key` header and its 409 on a POST of the
 * reports (reports.md 1.8). The behaviour is IdempotencyGuard's, for
 * every such route; test/e2e/openapi checks that each one carries this.
 */
export function ApiIdempotencyKey(mount: Mount): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: IDEMPOTENCY_HEADER,
      required: false,
      description:
        'Makes a retry safe (reports.md 1.8): scoped to the token and kept 24 hours; a repeat with the same method, path and JSON body answers the first status, body and Location again (header `Idempotent-Replayed: true`), and waits while the first call runs; another request under the key is 409. 5xx, 408 and 429 answers are not kept.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
    }),
    ApiErrors(mount, 400, 409),
  );
}
