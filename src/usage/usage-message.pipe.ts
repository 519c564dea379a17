import { Injectable, PipeTransform } from '@nestjs/common';
import { SubmitUsageCommand } from './usage.commands';
import { validateMessage } from './usage-validation';

/**
 * The edge of POST usage/: checks the envelope (a whole-message problem is a
 * 400, amie-usage.md 4.2) and every record against the compiled schemas of
 * usage-validation.ts (4.6), and hands the service a typed command: the
 * accepted records, normalised, and the per-record failures, which are part
 * of a 200 answer. A class-validator DTO would be several times slower on a
 * 5,000-record batch (bench/usage.bench.ts) and could not give per-record
 * answers, so the precompiled schema stands in for it here and is what the
 * OpenAPI document shows (USAGE_MESSAGE_SCHEMA).
 */
@Injectable()
export class UsageMessagePipe implements PipeTransform<unknown, SubmitUsageCommand> {
  transform(body: unknown): SubmitUsageCommand {
    const { usageType, outcomes } = validateMessage(body);
    const command: SubmitUsageCommand = { usageType, received: outcomes.length, accepted: [], failed: [] };
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) command.accepted.push(outcome.record);
      else command.failed.push({ index, error: outcome.error, echo: outcome.echo, resource: outcome.resource, localRecordId: outcome.localRecordId });
    });
    return command;
  }
}
