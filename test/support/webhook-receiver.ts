import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

/** One request a receiver got, as it arrived. */
export interface Received {
  id: string;
  type: string;
  timestamp: string;
  signature: string;
  /** The exact bytes of the body, as UTF-8 text. */
  body: string;
  /** Whether X-Ledger-Signature is the HMAC-SHA256 of "<timestamp>.<body>" with the receiver's secret. */
  verified: boolean;
  /** What the receiver answered; null while held, or when the sender went away first. */
  status: number | null;
}

/** What to answer a request: a status, or `hold` (no answer until `release`). */
export type Answer = number | 'hold';

/**
 * A real HTTP server on 127.0.0.1 that receives webhook deliveries
 * (reports.md 6.7) and checks each signature the way docs/events.md tells a
 * consumer to. `answer` decides each reply (default 200); `secret` is set
 * once the webhook is created.
 */
export interface WebhookReceiver {
  url: string;
  secret: string;
  received: Received[];
  answer: (request: Received, index: number) => Answer;
  /** The most requests for one event id in flight at the same time. */
  maxConcurrentPerId: number;
  /** Answers every held request with `status`. */
  release(status?: number): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const held: { res: ServerResponse; request: Received }[] = [];
  const inFlight = new Map<string, number>();
  const receiver: WebhookReceiver = {
    url: '',
    secret: '',
    received: [],
    answer: () => 200,
    maxConcurrentPerId: 0,
    release(status = 200) {
      for (const { res, request } of held.splice(0)) {
        if (res.destroyed) continue;
        request.status = status;
        res.writeHead(status).end();
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => String(req.headers[name] ?? '');
      const request: Received = {
        id: header('x-ledger-event-id'),
        type: header('x-ledger-event-type'),
        timestamp: header('x-ledger-timestamp'),
        signature: header('x-ledger-signature'),
        body: raw.toString('utf8'),
        verified: verify(receiver.secret, header('x-ledger-timestamp'), raw, header('x-ledger-signature')),
        status: null,
      };
      const index = receiver.received.push(request) - 1;
      const now = (inFlight.get(request.id) ?? 0) + 1;
      inFlight.set(request.id, now);
      receiver.maxConcurrentPerId = Math.max(receiver.maxConcurrentPerId, now);
      res.on('close', () => inFlight.set(request.id, (inFlight.get(request.id) ?? 1) - 1));
      const answer = receiver.answer(request, index);
      if (answer === 'hold') {
        held.push({ res, request });
        return;
      }
      request.status = answer;
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return receiver;
}

/** The check docs/events.md shows a consumer: HMAC-SHA256 of "<timestamp>.<raw body>", compared in constant time. */
function verify(secret: string, timestamp: string, raw: Buffer, header: string): boolean {
  if (!secret) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
