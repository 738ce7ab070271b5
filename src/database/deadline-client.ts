import type { Socket } from 'node:net';
import { Client, QueryConfig, QueryResult } from 'pg';

/** What `pg` rejects a query with when `query_timeout` passes without an answer. */
const READ_TIMEOUT = 'Query read timeout';

/** How TypeORM opens a transaction (PostgresQueryRunner.startTransaction), the text held back. */
const START_TRANSACTION = 'START TRANSACTION';

/**
 * Set on a statement's QueryConfig: the statement may be sent right behind a held-back START
 * TRANSACTION, in the same round trip, before the server has answered it. Only for statements
 * that write nothing: were the START refused, the statement would have run outside the
 * transaction (its answer is then refused too), which a read and a row lock survive unharmed.
 */
export const SENT_WITH_START = Symbol('sentWithStart');

/** A statement's QueryConfig, marked as one that may be sent with the transaction's START. */
export type StartingStatement = QueryConfig & { [SENT_WITH_START]?: true };

type Callback = (error: unknown, result?: unknown) => void;

/**
 * A `pg` client for the service's pool, with what `pg` alone does not do:
 *
 * - **Deadline.** It closes its connection when a query got no answer within `query_timeout`.
 *   `pg` alone fails the query but keeps the connection, with the unanswered query still at the
 *   head of its queue: the pool would hand that connection out again and every later query on it
 *   would wait behind the first. A server that answered nothing, not even the error
 *   statement_timeout makes it send, is presumed frozen or gone; a closed connection leaves the
 *   pool (pg-pool drops a client that is ending when it is released) and the next request opens
 *   a fresh one.
 *
 * With the pool's `pipeline` option (PostgreSQL itself; not the embedded engine, whose socket
 * server can mix up the messages of concurrent connections):
 * - **Pipelining** (`pg`'s `pipeline` mode): a query is sent at once, not after the answer to the
 *   one before it. Each query still ends with its own Sync, so each is answered, or refused, on
 *   its own and in order, as when they wait for each other; only what the caller sends without
 *   awaiting (UnitOfWork's statements sent with the commit) shares a round trip.
 * - **The transaction's START sent with its first statement.** TypeORM awaits START TRANSACTION
 *   before the use case's first statement: a round trip of its own, in which the server does
 *   nothing. Here START is held back (answered at once) and sent with the next statement: in the
 *   same round trip when that statement is marked SENT_WITH_START, else just before it, its
 *   answer awaited first. A COMMIT or ROLLBACK with nothing before it is answered without a
 *   round trip: no transaction was opened. Either way a refused START refuses the statement.
 */
export class DeadlineClient extends Client {
  /** A START TRANSACTION answered but not yet sent. */
  private startHeld = false;

  /** Pipelining and the START held back, as the pool's `pipeline` option says. */
  private readonly pipelining: boolean;

  constructor(config?: ConstructorParameters<typeof Client>[0] & { pipeline?: boolean }) {
    super(config);
    this.pipelining = typeof config === 'object' && config.pipeline === true;
    batchWrites(this);
  }

  // Every overload of Client.query goes through here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const [config] = args as [unknown];
    if (this.pipelining && !this.startHeld && isBare(args, START_TRANSACTION)) {
      this.startHeld = true;
      return Promise.resolve(answer('BEGIN'));
    }
    if (!this.startHeld) return this.send(args);
    this.startHeld = false;
    if (isBare(args, 'COMMIT') || isBare(args, 'ROLLBACK')) {
      return Promise.resolve(answer(config as string));
    }
    const started = this.send([START_TRANSACTION]) as Promise<unknown>;
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback) : null;
    let result: Promise<unknown>;
    if ((config as StartingStatement | null)?.[SENT_WITH_START] === true) {
      const sent = this.send(args) as Promise<unknown>;
      result = started.then(
        () => sent,
        (error: unknown) => {
          sent.catch(() => undefined);
          throw error;
        },
      );
    } else {
      result = started.then(() => this.send(args) as Promise<unknown>);
    }
    if (callback === null) return result;
    result.then(
      (value) => callback(null, value),
      (error: unknown) => callback(error),
    );
    return undefined;
  }

  private send(args: unknown[]): unknown {
    const last: unknown = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => {
        this.dropIfUnanswered(error);
        (last as Callback)(error, result);
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
    // `pg` in pipeline mode destroys the socket of a query sent and unanswered; end() makes
    // sure of it (a query not yet sent is only taken off the queue there) and refuses the rest.
    this.end().catch(() => undefined);
  }
}

/** Whether the query is `text` alone, with no values and no callback (as TypeORM sends it). */
function isBare(args: unknown[], text: string): boolean {
  return args[0] === text && args.slice(1).every((arg) => arg === undefined);
}

/** The answer to a transaction statement given without a round trip. */
function answer(command: string): QueryResult {
  return { command, rowCount: null, oid: 0, fields: [], rows: [] };
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
