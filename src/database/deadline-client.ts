import type { Socket } from 'node:net';
import { Client } from 'pg';

/** What `pg` rejects a query with when `query_timeout` passes without an answer. */
const READ_TIMEOUT = 'Query read timeout';

/**
 * A `pg` client that closes its connection when a query got no answer within `query_timeout`.
 * `pg` alone fails the query but keeps the connection, with the unanswered query still at the head
 * of its queue: the pool would hand that connection out again and every later query on it would
 * wait behind the first. A server that answered nothing, not even the error statement_timeout
 * makes it send, is presumed frozen or gone; a closed connection leaves the pool (pg-pool drops a
 * client that is ending when it is released) and the next request opens a fresh one.
 */
export class DeadlineClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    batchWrites(this);
  }

  // Every overload of Client.query goes through here; only the outcome is looked at.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const last: unknown = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => {
        this.dropIfUnanswered(error);
        (last as (error: unknown, result: unknown) => void)(error, result);
      };
    }
    const result: unknown = (super.query as (...args: unknown[]) => unknown)(...args);
    // Attached before the caller's own handlers, so the connection is already ending when they
    // run: a ROLLBACK that follows fails at once instead of queueing behind the lost query.
    if (result instanceof Promise) result.catch((error: unknown) => this.dropIfUnanswered(error));
    return result;
  }

  private dropIfUnanswered(error: unknown): void {
    if ((error as Error | undefined)?.message !== READ_TIMEOUT) return;
    // With a query still active, end() destroys the socket rather than waiting for the server.
    this.end().catch(() => undefined);
  }
}

/**
 * `pg` writes each message of a query (Parse, Bind, Describe, Execute, Sync) to the socket by
 * itself: four or five system calls per query, the largest part of a query's CPU cost in this
 * process. Corked on the first message of a tick and uncorked on the next tick, they leave in one.
 * Leaves the client as it is if `pg`'s connection no longer looks as expected.
 */
function batchWrites(client: Client): void {
  const connection = (client as unknown as { connection?: { _send?: unknown; stream?: unknown } })
    .connection;
  if (typeof connection?._send !== 'function') return;
  let corked = false;
  connection._send = function send(buffer: Buffer): boolean {
    const stream = connection.stream as Socket;
    if (!stream.writable) return false;
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(() => {
        corked = false;
        stream.uncork();
      });
    }
    return stream.write(buffer);
  };
}
