import type { ClientBase } from 'pg';
import type { EntityManager } from 'typeorm';
import { SENT_WITH_START, StartingStatement } from './deadline-client';
import { statementName } from './pg-pool';

/** A statement run straight through `pg`, prepared once per connection under `name`. */
export interface Statement {
  name: string;
  text: string;
  /**
   * It writes nothing (a read, a row lock): as a transaction's first statement it may go in
   * the same round trip as the transaction's START (DeadlineClient).
   */
  writesNothing?: true;
}

/** What a statement answered: its rows and how many rows it touched. */
export interface StatementResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * Runs `statement` on the connection of `manager`'s transaction (so in that transaction, under
 * its locks), as a named statement where the server is PostgreSQL itself: for the few writes on
 * hot paths, where the ORM's query building and change detection cost more than the statement.
 * Outside a transaction it refuses: these statements are steps of a use case.
 */
export async function runInTransaction<R = Record<string, unknown>>(
  manager: EntityManager,
  statement: Statement,
  values: unknown[],
): Promise<StatementResult<R>> {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    throw new Error(`${statement.name} must run inside a transaction`);
  }
  const client = (await runner.connect()) as ClientBase;
  return query<R>(client, manager, statement, values);
}

/**
 * Sends `statement` on the connection of `manager`'s transaction now, without waiting for the
 * answer before the caller goes on: for a use case's last write, sent with the commit
 * (UnitOfWork.sendWithCommit). The transaction must have run a statement already (its
 * connection is then at hand, and this one is sent before anything the caller does next).
 */
export function sendInTransaction<R = Record<string, unknown>>(
  manager: EntityManager,
  statement: Statement,
  values: unknown[],
): Promise<StatementResult<R>> {
  const runner = manager.queryRunner;
  // TypeORM's PostgresQueryRunner keeps its connection there once connected.
  const client = runner?.isTransactionActive
    ? (runner as unknown as { databaseConnection?: ClientBase }).databaseConnection
    : undefined;
  if (client === undefined) {
    throw new Error(`${statement.name} is sent after the transaction's first statement`);
  }
  return query<R>(client, manager, statement, values);
}

async function query<R>(
  client: ClientBase,
  manager: EntityManager,
  statement: Statement,
  values: unknown[],
): Promise<StatementResult<R>> {
  const config: StartingStatement = {
    name: statementName(manager.connection, statement.name),
    text: statement.text,
    values,
  };
  if (statement.writesNothing) config[SENT_WITH_START] = true;
  const result = await client.query<R & Record<string, unknown>>(config);
  return { rows: result.rows, rowCount: result.rowCount ?? 0 };
}

/**
 * The server process of `manager`'s transaction connection (what a NOTIFY it sends is heard
 * from), when the server tells one: undefined outside a transaction or on the embedded engine.
 */
export async function backendPidOf(manager: EntityManager): Promise<number | undefined> {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) return undefined;
  const client = (await runner.connect()) as { processID?: number | null };
  return client.processID ?? undefined;
}
