import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { blockedCategory, guardedLookup, hostOf } from './webhook-url-safety';

export const USER_AGENT = 'customer-access-webhooks/1';
const MAX_ERROR_LENGTH = 200;

/** One POST of an event to an endpoint. */
export interface Outgoing {
  url: string;
  /** The event id: the `webhook-id`. */
  eventId: string;
  /** The event as JSON, exactly the bytes signed. */
  body: string;
  /** The `whsec_` secrets to sign with: the current one, then the previous one while it is valid. */
  secrets: string[];
}

/** What came of it: delivered is a 2xx in time. */
export interface SendResult {
  delivered: boolean;
  statusCode: number | null;
  durationMs: number;
  /** Short, for the log: never a secret, a header or the body. */
  error: string | null;
  /** Stopped by shutdown: not an attempt to count. */
  aborted: boolean;
}

/**
 * Sends deliveries with node's http/https (redirects are not followed: a 3xx fails). Where private
 * networks are not allowed, only https goes out, an IP literal in the URL is checked here, and a
 * host name is resolved by guardedLookup as the socket connects, so the address checked is the
 * address connected to.
 */
export class WebhookSender {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
  };

  constructor(private readonly options: { timeoutMs: number; allowPrivateNetworks: boolean }) {}

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  send(outgoing: Outgoing, signal: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const failed = (error: string, statusCode: number | null = null): SendResult => ({
      delivered: false,
      statusCode,
      durationMs: elapsed(),
      error: error.slice(0, MAX_ERROR_LENGTH),
      aborted: false,
    });

    let url: URL;
    try {
      url = new URL(outgoing.url);
    } catch {
      return Promise.resolve(failed('invalid URL'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.resolve(failed('invalid URL'));
    }
    if (!this.options.allowPrivateNetworks) {
      if (url.protocol !== 'https:') return Promise.resolve(failed('https required'));
      const host = hostOf(url);
      const category = isIP(host) ? blockedCategory(host) : null;
      if (category) return Promise.resolve(failed(`address not allowed: ${category} (${host})`));
    }

    // The receiver compares webhook-timestamp with its own clock to refuse replays: the wall
    // clock's, whatever the service's Clock says.
    const timestamp = new Date();
    const signature = outgoing.secrets
      .map((secret) => new Webhook(secret).sign(outgoing.eventId, timestamp, outgoing.body))
      .join(' ');
    const transport = url.protocol === 'https:' ? https : http;

    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const request = transport.request(url, {
        method: 'POST',
        agent: this.agents[url.protocol as 'http:' | 'https:'],
        signal,
        lookup: this.options.allowPrivateNetworks ? undefined : guardedLookup,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(outgoing.body),
          'user-agent': USER_AGENT,
          'webhook-id': outgoing.eventId,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
      });
      // One deadline for the whole exchange, from the lookup to the end of the answer.
      const deadline = setTimeout(() => {
        finish(failed(`timeout after ${this.options.timeoutMs} ms`));
        request.destroy();
      }, this.options.timeoutMs);
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        // The answer's body is not read, only drained, so that the socket can serve the next.
        response.resume();
        response.on('end', () => clearTimeout(deadline));
        response.on('error', () => undefined);
        finish(
          status >= 200 && status < 300
            ? {
                delivered: true,
                statusCode: status,
                durationMs: elapsed(),
                error: null,
                aborted: false,
              }
            : failed(`HTTP ${status}`, status),
        );
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(deadline);
        if (signal.aborted) finish({ ...failed('aborted by shutdown'), aborted: true });
        else finish(failed(describe(error)));
      });
      request.end(outgoing.body);
    });
  }
}

/** A short reason: codes, not messages, except ours (which name the blocked address). */
function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRBLOCKED':
      return `address not allowed: ${error.message}`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      if (error.code && /CERT|SSL|TLS|SELF_SIGNED/.test(error.code)) return `tls: ${error.code}`;
      return `request failed: ${error.code ?? error.message}`;
  }
}
