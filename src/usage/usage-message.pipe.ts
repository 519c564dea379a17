import { createParamDecorator, ExecutionContext, Injectable, PipeTransform } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service';
import { withoutBom } from '../http/body-parsers';
import { SubmitUsageCommand } from './usage.commands';
import { storedForm } from './usage-stored-record';
import { validateMessage } from './usage-validation';

/** What the message pipe reads: the parsed body, the JSON text it was parsed from, and whether jsonb reads that text's numbers alike (src/http/body-parsers.ts). */
export interface UsageMessageInput {
  body: unknown;
  text: string | undefined;
  /** The bytes `text` was decoded from. */
  bytes: Buffer | undefined;
  numericSafe: boolean;
  /** The site, and the hash of its key when the guard took it from memory (SiteKeyToCheck): a refused message checks it first. */
  site: string | undefined;
  keyHash: string | null;
}

/**
 * The body of POST usage/ with its JSON text (src/http/body-parsers.ts keeps
 * it on the request), for UsageMessagePipe: `@UsageMessage(UsageMessagePipe)`.
 */
export const UsageMessage = createParamDecorator((_data: unknown, context: ExecutionContext): UsageMessageInput => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const body = request.body;
  // The parsed body goes to the pipe alone: nothing reads request.body after
  // the handler's arguments are resolved, and a request that still held it
  // would keep every parsed record alive (and copied by each scavenge) while
  // the batch is written (issue 14).
  request.body = undefined;
  return {
    body,
    text: request.rawBody,
    bytes: request.rawBodyBytes,
    numericSafe: request.jsonNumericSafe === true,
    site: request.siteName,
    keyHash: request.siteKeyToCheck ?? null,
  };
});

/**
 * The edge of POST usage/: checks the envelope (a whole-message problem is a
 * 400, amie-usage.md 4.2) and every record against the compiled schemas of
 * usage-validation.ts (4.6), and hands the service a typed command: the
 * accepted records, normalised, and the per-record failures, which are part
 * of a 200 answer. A class-validator DTO would be several times slower on a
 * 5,000-record batch (bench/usage.bench.ts) and could not give per-record
 * answers, so the precompiled schema stands in for it here and is what the
 * OpenAPI document shows (USAGE_MESSAGE_SCHEMA).
 *
 * A NUL character or an unpaired surrogate can only be in a parsed body
 * through a `\u` escape of its JSON text (the text was decoded from UTF-8,
 * which yields neither, and JSON refuses raw control characters), so a text
 * without `\u` spares every record the walk over its strings (textSafe).
 * Such a text (with numbers jsonb can hold: no exponent of five digits or
 * more, no run of 1,000 digits, found by the body parser's one scan) is also what the batch stores:
 * PostgreSQL reads every record from it as JavaScript did (SubmitUsageCommand.text).
 */
@Injectable()
export class UsageMessagePipe implements PipeTransform<UsageMessageInput, Promise<SubmitUsageCommand>> {
  constructor(private readonly auth: AuthService) {}

  /**
   * A whole message refused (400) with a site key the guard took from memory
   * is answered only once that key is confirmed current: a rotated key gets
   * its 401 (or 403) before anything about the message, as when the guard
   * reads the database (amie-usage.md 2).
   */
  async transform(input: UsageMessageInput): Promise<SubmitUsageCommand> {
    try {
      return this.command(input);
    } catch (error) {
      if (input.site !== undefined && input.keyHash !== null) await this.auth.confirmSiteKey(input.site, input.keyHash);
      throw error;
    }
  }

  private command({ body, text, bytes, numericSafe }: UsageMessageInput): SubmitUsageCommand {
    const textSafe = typeof text === 'string' && !text.includes('\\u');
    const { usageType, outcomes } = validateMessage(body, Date.now(), { textSafe });
    const stored = textSafe && numericSafe ? storedText(text, bytes) : null;
    const command: SubmitUsageCommand = { usageType, received: outcomes.length, accepted: [], failed: [], text: stored };
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) command.accepted.push(storedForm(usageType, outcome.record, stored === null));
      else command.failed.push({ index, error: outcome.error, echo: outcome.echo, resource: outcome.resource, localRecordId: outcome.localRecordId });
    });
    return command;
  }
}

/**
 * The message text a batch keeps, without a leading BOM (the JSON parser
 * skips it; PostgreSQL's would not): the bytes as received (the JSON body
 * parser refused any that are not UTF-8), so the driver sends them as they
 * are instead of encoding the string again; the text when there are none.
 */
function storedText(text: string, bytes: Buffer | undefined): string | Buffer {
  if (bytes === undefined) return withoutBom(text);
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}
