import { isUtf8 } from 'node:buffer';
import { parse as parseQueryString } from 'node:querystring';
import { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { CommonError, DomainError } from './domain-error';
import { Mount, mountOf } from './mounts';

export type BodyKind = 'json' | 'form' | 'other';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as received, before any parsing. */
    rawBody?: string;
    /** A JSON body's bytes as received (rawBody is their UTF-8 decoding). */
    rawBodyBytes?: Buffer;
    /** Which parser read the body; undefined when the request had none. */
    bodyKind?: BodyKind;
    /** A JSON body: whether PostgreSQL's jsonb reads every number of rawBody as it was parsed (ParsedJson.numericSafe). */
    jsonNumericSafe?: boolean;
  }
}

/** How deeply arrays and objects may nest in a JSON body (issue 8: no input reaches a stack overflow). */
export const MAX_JSON_DEPTH = 64;

/** What one scan of JSON text found (scanJson). */
export interface JsonScan {
  /** Arrays/objects nest deeper than the limit (the scan stopped there). */
  tooDeep: boolean;
  /**
   * A number PostgreSQL's jsonb may refuse although JavaScript read it: an
   * exponent of five digits or more, or a run of 1,000 digits (numeric's
   * range). Strings do not count: jsonb keeps any string.
   */
  wideNumber: boolean;
  /**
   * A string of the text is `__proto__` or `constructor` as written (no
   * escape): what secure-json-parse looks for with two regular expressions
   * over the whole text (with `\u` escapes it looks further; parseJson then
   * lets it).
   */
  suspectKey: boolean;
}

/** Whether code is an ASCII digit. */
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;

/**
 * One linear scan of JSON text, skipping strings, before anything recursive
 * sees it: how deep arrays/objects nest (stopping past `limit`) and whether
 * a number is beyond numeric's range (issue 14: one pass instead of a second
 * regular expression over the whole body). On text that is not JSON the
 * answer is meaningless but harmless (parsing fails next).
 */
export function scanJson(text: string, limit: number): JsonScan {
  let depth = 0;
  let digits = 0;
  let wideNumber = false;
  let suspectKey = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      if (++digits >= 1000) wideNumber = true;
      continue;
    }
    digits = 0;
    if (c === 0x22) {
      // A string: jump to its closing quote (one not preceded by an odd run of
      // backslashes) with indexOf, which scans natively: half the cost of
      // looking at every character of the strings that make most of a body.
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let k = end - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((end - 1 - k) % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return { tooDeep: false, wideNumber, suspectKey };
      const size = end - i - 1;
      if ((size === 9 && text.startsWith('__proto__', i + 1)) || (size === 11 && text.startsWith('constructor', i + 1))) suspectKey = true;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return { tooDeep: true, wideNumber, suspectKey };
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x65 || c === 0x45) {
      // An exponent (outside strings, an `e` is one, or part of true/false, followed by no digit).
      let j = i + 1;
      if (text.charCodeAt(j) === 0x2b || text.charCodeAt(j) === 0x2d) j++;
      let end = j;
      while (isDigit(text.charCodeAt(end))) end++;
      if (end - j >= 5) wideNumber = true;
    }
  }
  return { tooDeep: false, wideNumber, suspectKey };
}

/** Whether JSON text nests arrays/objects deeper than `limit` (scanJson). */
export function jsonNestsDeeperThan(text: string, limit: number): boolean {
  return scanJson(text, limit).tooDeep;
}

/** Parsed JSON text, and whether PostgreSQL's jsonb reads each of its numbers as JavaScript did (no JsonScan.wideNumber). */
export interface ParsedJson {
  value: unknown;
  numericSafe: boolean;
}

/**
 * Parses JSON text with Fastify's prototype-poisoning protection
 * (secure-json-parse: a `__proto__` key, or a `constructor` key holding
 * `prototype`, is refused), refusing nesting deeper than MAX_JSON_DEPTH.
 * A text the scan found no such key in, written without `\u` escapes,
 * cannot hold one: it goes to JSON.parse alone, sparing the two regular
 * expressions secure-json-parse would run over it (issue 14).
 */
export function parseJson(text: string): ParsedJson {
  const scan = scanJson(text, MAX_JSON_DEPTH);
  if (scan.tooDeep) {
    throw new DomainError(CommonError.InvalidJson, `Request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    const plain = !scan.suspectKey && !text.includes('\\u');
    // secure-json-parse drops a leading BOM, which JSON.parse refuses.
    const value = plain ? JSON.parse(withoutBom(text)) : secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    return { value, numericSafe: !scan.wideNumber };
  } catch {
    throw new DomainError(CommonError.InvalidJson, 'Request body is not valid JSON');
  }
}

/** JSON text without a leading byte order mark, which JSON parsers skip or refuse. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** parseJson's value. */
export function parseJsonText(text: string): unknown {
  return parseJson(text).value;
}

/**
 * The service's three body parsers (spec/README.md, "Body parsers"), set once
 * on the one Fastify instance: JSON (an empty body is "no body"), form-encoded
 * (repeated keys become arrays) and a catch-all that keeps the text. Each
 * keeps the raw text for the mounts that need it.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  // Read as bytes and decoded once (what `parseAs: 'string'` gives, without
  // decoding chunk by chunk into a rope of strings): the bytes are kept for a
  // route that stores the text as received (issue 14, rawBodyBytes).
  fastify.addContentTypeParser(/^application\/([\w.+-]+\+)?json(\s*;.*)?$/i, { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    const text = bytes.toString('utf8');
    request.rawBody = text;
    request.rawBodyBytes = bytes;
    if (text === '') return done(null, undefined);
    request.bodyKind = 'json';
    // JSON is UTF-8 (RFC 8259 8.1): other bytes would be read as U+FFFD, a value nobody sent.
    if (!isUtf8(bytes)) return done(new DomainError(CommonError.InvalidJson, 'Request body is not valid UTF-8'), undefined);
    if (text.trim() === '') return done(null, undefined);
    try {
      const { value, numericSafe } = parseJson(text);
      request.jsonNumericSafe = numericSafe;
      done(null, value);
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawBody = text;
    if (text === '') return done(null, undefined);
    request.bodyKind = 'form';
    done(null, { ...parseQueryString(text) });
  });
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    if (body === '') return done(null, undefined);
    request.bodyKind = 'other';
    done(null, body);
  });
}

/**
 * What each mount accepts once a body has been read (spec/README.md, the
 * mount table under "Body parsers"). Runs as a preValidation hook, so before
 * every handler and guard; its errors reach the global filter.
 */
export function registerBodyPolicy(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request: FastifyRequest) => {
    const kind = request.bodyKind;
    if (kind === undefined) return;
    const mount: Mount = mountOf(request.url);
    switch (mount) {
      case 'almanach':
        if (kind !== 'json') throw new DomainError(CommonError.BadRequest, 'Invalid parameter or payload');
        return;
      case 'astakos':
        // Astakos parses the body as JSON whatever the content type says (quotas.md 2).
        if (kind !== 'json') request.body = request.rawBody?.trim() ? parseJsonText(request.rawBody) : undefined;
        return;
      case 'allocations':
        if (kind === 'other') throw unsupported(request);
        return;
      default:
        if (kind !== 'json') throw unsupported(request);
    }
  });
}

function unsupported(request: FastifyRequest): DomainError {
  const type = request.headers['content-type'] ?? '(none)';
  return new DomainError(CommonError.UnsupportedMediaType, `Content-Type ${type} is not supported here; send application/json`);
}
