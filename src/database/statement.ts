import type { ClientBase } from 'pg';
import type { EntityManager } from 'typeorm';
import { statementName } from './pg-pool';

/** A statement run straight through `pg`, prepared once per connection under `name`. */
export interface Statement {
  name: string;
  text: string;
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
  const result = await client.query<R & Record<string, unknown>>({
    name: statementName(manager.connection, statement.name),
    text: statement.text,
    values,
  });
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
