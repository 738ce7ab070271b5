import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';

/** One server-sent event as received, with when it arrived (performance.now()). */
export interface ReceivedEvent {
  id: string | undefined;
  event: string;
  data: string;
  at: number;
}

/**
 * A server-sent events reader over plain `node:http` (independent of the client library under
 * test): it keeps every event and every comment line, in order, and lets a test wait for one.
 */
export class EventStreamReader {
  readonly events: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  private buffer = '';
  private ended = false;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly response: IncomingMessage,
    private readonly request: ClientRequest,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.read(chunk));
    const end = () => {
      this.ended = true;
      this.notify();
    };
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  /** Opens `url` with `headers`; resolves once the answer's headers arrived (any status). */
  static open(url: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } });
      request.on('response', (response) => resolve(new EventStreamReader(response, request)));
      request.on('error', reject);
      request.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** True once the server ended or broke the stream. */
  get closed(): boolean {
    return this.ended;
  }

  /** The events of one type, in order. */
  of(type: string): ReceivedEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** The id of the last event that carried one: what a reconnect sends as Last-Event-ID. */
  get lastEventId(): string | undefined {
    return this.events.findLast((e) => e.id !== undefined)?.id;
  }

  /** Waits until `probe()` is true, or fails after `timeoutMs`, saying what arrived meanwhile. */
  async until(probe: () => boolean, timeoutMs = 10_000, what = 'the awaited event'): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!probe()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `No ${what} after ${timeoutMs} ms; received: ` +
            JSON.stringify(this.events.slice(-10).map(({ event, data }) => ({ event, data }))),
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the next event matching `match` after the first `from` events; returns it. */
  async next(
    match: (e: ReceivedEvent) => boolean,
    options: { from?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<ReceivedEvent> {
    const from = options.from ?? 0;
    const find = () => this.events.slice(from).find(match);
    await this.until(() => find() !== undefined, options.timeoutMs, options.what);
    return find()!;
  }

  /** The whole body of an answer that is not a stream (a problem), once it ended. */
  async body(): Promise<string> {
    await this.until(() => this.ended, 10_000, 'end of the answer');
    return this.buffer;
  }

  close(): void {
    this.request.destroy();
    this.response.destroy();
  }

  private read(chunk: string): void {
    if (!String(this.response.headers['content-type']).startsWith('text/event-stream')) {
      this.buffer += chunk;
      return;
    }
    this.buffer += chunk;
    let start = 0;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n', start)) >= 0) {
      const block = this.buffer.slice(start, end);
      start = end + 2;
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields[name] =
          name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
      }
      if (fields.event !== undefined || fields.data !== undefined) {
        this.events.push({
          id: fields.id,
          event: fields.event ?? 'message',
          data: fields.data ?? '',
          at: performance.now(),
        });
      }
    }
    this.buffer = this.buffer.slice(start);
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters.splice(0);
    for (const wake of waiters) wake();
  }
}

/** The JSON of an event's data. */
export const dataOf = <T = Record<string, string>>(event: ReceivedEvent): T =>
  JSON.parse(event.data) as T;
