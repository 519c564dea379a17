/**
 * The oslo.messaging envelope (collector.md 3): what a Nova or Cinder
 * notification looks like on the wire, read into a typed message. Pure
 * functions, no I/O.
 */

/** A message the collector cannot read or apply (collector.md 3.2, 4.2): dead-lettered `malformed`. */
export class MalformedNotification extends Error {}

/** One notification as oslo.messaging published it, unwrapped. */
export interface NotificationMessage {
  messageId: string;
  eventType: string;
  publisherId: string | null;
  /** The `_context_<key>` entries, read as `<key>`. */
  context: Record<string, unknown>;
  /** `payload` as sent; not checked until the event type is known. */
  payload: unknown;
  /** The message's `timestamp` (a string), when present. */
  timestamp: unknown;
}

/** What could be read of a message before it turned out malformed (for the dead letter's headers). */
export interface PartialIdentity {
  messageId: string;
  eventType: string;
}

/**
 * Reads the AMQP body: UTF-8 JSON, either the 2.0 envelope
 * (`oslo.version` "2.x" + `oslo.message` holding a JSON object) or a 1.0
 * message (an object with `event_type`). Throws MalformedNotification, with
 * whatever identity could be read in `identity`.
 */
export function readNotification(body: Buffer, identity: PartialIdentity = { messageId: '', eventType: '' }): NotificationMessage {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new MalformedNotification('the body is not UTF-8');
  }
  const outer = parseJson(text, 'the body');
  if (!isObject(outer)) throw new MalformedNotification('the body is not a JSON object');
  let message: Record<string, unknown>;
  if ('oslo.message' in outer) {
    const version = outer['oslo.version'];
    if (typeof version !== 'string' || !version.startsWith('2.')) throw new MalformedNotification('oslo.version is not a 2.x version');
    const inner = outer['oslo.message'];
    if (typeof inner !== 'string') throw new MalformedNotification('oslo.message is not a string');
    const parsed = parseJson(inner, 'oslo.message');
    if (!isObject(parsed)) throw new MalformedNotification('oslo.message is not a JSON object');
    message = parsed;
  } else if ('event_type' in outer) {
    message = outer;
  } else {
    throw new MalformedNotification('the body is neither an oslo 2.0 envelope nor a 1.0 message');
  }
  if (typeof message.message_id === 'string') identity.messageId = message.message_id;
  if (typeof message.event_type === 'string') identity.eventType = message.event_type;
  if (typeof message.message_id !== 'string' || message.message_id === '') throw new MalformedNotification('message_id is missing or empty');
  if (typeof message.event_type !== 'string' || message.event_type === '') throw new MalformedNotification('event_type is missing or empty');
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    if (key.startsWith('_context_')) context[key.slice('_context_'.length)] = value;
  }
  return {
    messageId: message.message_id,
    eventType: message.event_type,
    publisherId: typeof message.publisher_id === 'string' ? message.publisher_id : null,
    context,
    payload: message.payload,
    timestamp: message.timestamp,
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedNotification(`${what} is not valid JSON`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
