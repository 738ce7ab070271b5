import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** The event body a delivery carries: `GET /events`' shape. */
export interface EventBody {
  id: string;
  type: string;
  created_at: string;
  data: { customer?: { id: string; status: string }; hold?: { id: string }; test?: boolean };
}

/** One request as the receiver got it: raw, so that signatures are checked on the exact bytes. */
export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  event: EventBody;
  /** Which request this was for its webhook-id, from 1. */
  nth: number;
  at: number;
}

/**
 * What to answer: a status, or `hang` (never answer; the socket stays open until the receiver
 * stops). Decided per request, after it is recorded.
 */
export type Answer = number | 'hang';

/**
 * A real webhook receiver: a node:http server on 127.0.0.1, port 0, recording every request.
 * Signatures are verified with the standardwebhooks library by the tests, on the raw body.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly seen = new Map<string, number>();
  answer: (request: Received) => Answer = () => 204;

  private readonly server: Server = createServer((req, res) => this.handle(req, res));
  /** Where it listens, kept after it stops (a URL nobody answers on). */
  url = '';

  static async start(path = '/hooks'): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.server.address() as AddressInfo;
    receiver.url = `http://127.0.0.1:${port}${path}`;
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
      const id = headers['webhook-id'] ?? '';
      const nth = (this.seen.get(id) ?? 0) + 1;
      this.seen.set(id, nth);
      let event: EventBody;
      try {
        event = JSON.parse(body) as EventBody;
      } catch {
        event = { id: '', type: 'not json', created_at: '', data: {} };
      }
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body,
        event,
        nth,
        at: performance.now(),
      };
      this.received.push(received);
      const answer = this.answer(received);
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  }

  /** The requests whose event is about the customer, in arrival order. */
  about(customerId: string): Received[] {
    return this.received.filter((r) => r.event.data.customer?.id === customerId);
  }

  /** The requests carrying this webhook-id. */
  withId(eventId: string): Received[] {
    return this.received.filter((r) => r.headers['webhook-id'] === eventId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Whether the request verifies with this secret, as a receiver would check it. */
export function verifies(received: Received, secret: string): boolean {
  try {
    new Webhook(secret).verify(received.body, received.headers);
    return true;
  } catch {
    return false;
  }
}
