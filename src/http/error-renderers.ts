import { DomainErrorExtra } from './domain-error';
import { Mount } from './mounts';

/** The Synnefo fault name of each status under /astakos (quotas.md 2); the OpenAPI schemas use it too. */
export const SYNNEFO_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'notAllowed',
  409: 'conflict',
  413: 'overLimit',
  415: 'badMediaType',
  503: 'serviceUnavailable',
};

/** Almanach's 401 message whatever the credential's fault (almanach-v1.md 4, "reference wording; keep it"). */
export const ALMANACH_UNAUTHORIZED = 'Unauthorized';

/**
 * The error body of each mount (spec/README.md, "Errors: one global filter,
 * chosen by mount"): `{"error": ...}` everywhere except the Synnefo fault
 * envelope under /astakos (quotas.md 2).
 */
export function renderErrorBody(mount: Mount, status: number, message: string, extra: DomainErrorExtra = {}): unknown {
  switch (mount) {
    case 'astakos': {
      const fault = SYNNEFO_FAULTS[status] ?? (status >= 500 ? 'internalServerError' : 'badRequest');
      const body: Record<string, unknown> = { code: status, message, details: '' };
      if (extra.data !== undefined) body.data = extra.data;
      return { [fault]: body };
    }
    case 'almanach':
      // The update route answers its validation errors keyed by field (almanach-v1.md 4).
      return extra.fields ? { error: extra.fields } : { error: message };
    case 'allocations': {
      if (!extra.fields) return { error: message };
      const fields: Record<string, string[]> = {};
      for (const [key, value] of Object.entries(extra.fields)) fields[key] = Array.isArray(value) ? value : [value];
      return { error: message, fields };
    }
    case 'amie':
      // Exactly {"error": "<message>"} (amie-usage.md 2, 3): the message already names the field.
      return { error: message };
    default: {
      // `data`: figures the contract puts beside the message (reports.md 6.4: `available`, `requested`).
      const figures = extra.data !== null && typeof extra.data === 'object' ? (extra.data as Record<string, unknown>) : {};
      return extra.fields ? { error: message, fields: extra.fields, ...figures } : { error: message, ...figures };
    }
  }
}
