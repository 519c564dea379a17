import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { SYNNEFO_FAULTS } from './error-renderers';
import { Mount } from './mounts';

/**
 * OpenAPI helpers shared by every controller. Security scheme names (set up
 * in src/app.factory.ts): `token` (X-Auth-Token header), and for /amie the
 * pair `amie-site` (XA-Site) + `amie-key` (XA-API-Key), required together.
 */
export const SECURITY_TOKEN = 'token';
export const SECURITY_AMIE = { 'amie-site': [], 'amie-key': [] };

/** The extension @Public() puts on an operation; the finished document (src/http/openapi-document.ts) turns it into `security: []`. */
export const ANONYMOUS_EXTENSION = 'x-anonymous';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: the message names the field',
  401: 'No credential, or an unknown one',
  403: 'The credential may not do this',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict with the current state',
  413: 'Body larger than 1 MiB',
  415: 'Unsupported content type',
  429: 'Too many requests',
  503: 'A dependency is unavailable; retry after the Retry-After delay',
};

/** The JSON schema of an error answer in a mount's shape (src/http/error-renderers.ts renders it). */
export function errorSchema(mount: Mount, status: number): Record<string, unknown> {
  switch (mount) {
    case 'astakos': {
      const fault = SYNNEFO_FAULTS[status] ?? 'badRequest';
      return {
        type: 'object',
        required: [fault],
        properties: {
          [fault]: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'integer', example: status }, message: { type: 'string' }, details: { type: 'string' }, data: {} },
          },
        },
      };
    }
    case 'almanach':
      return {
        type: 'object',
        required: ['error'],
        properties: {
          error: { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: { type: 'string' }, description: 'per-field messages (update route)' }] },
        },
      };
    case 'allocations':
      return {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
      };
    default:
      return {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } },
      };
  }
}

/** The OpenAPI response object of an error answer in a mount's shape. */
export function errorResponse(mount: Mount, status: number): { description: string; content: { 'application/json': { schema: Record<string, unknown> } } } {
  return { description: STATUS_TEXT[status] ?? `HTTP ${status}`, content: { 'application/json': { schema: errorSchema(mount, status) } } };
}

/** Declares the error answers of a route, each in its mount's shape: `@ApiErrors('almanach', 400, 401, 404)`. */
export function ApiErrors(mount: Mount, ...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, ...errorResponse(mount, status) })));
}
