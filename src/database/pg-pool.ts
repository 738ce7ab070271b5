import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The `pg` pool under TypeORM's data source, for the few reads on hot paths that go straight
 * through `pg` with named (prepared) statements: the ORM's query building costs more than the
 * query there. Same connections, same timeouts.
 */
export function pgPoolOf(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('The data source is not connected to PostgreSQL through pg');
  return pool;
}

const namedStatements = new WeakMap<DataSource, boolean | Promise<void>>();

/**
 * The name to prepare a statement under on this data source, or undefined for an unnamed one.
 * `pg` prepares a named statement once per connection, but every connection to the embedded
 * engine shares one session, where a second connection's Parse of the same name is refused: so
 * statements are named only once the server is known to be PostgreSQL itself (unnamed until
 * then: the first query on a data source finds out).
 */
export function statementName(dataSource: DataSource, name: string): string | undefined {
  const known = namedStatements.get(dataSource);
  if (known === true) return name;
  if (known === undefined) {
    namedStatements.set(
      dataSource,
      dataSource
        .query<{ version: string }[]>('SELECT version()')
        .then(([{ version }]) => void namedStatements.set(dataSource, !version.includes('PGlite')))
        .catch(() => void namedStatements.delete(dataSource)),
    );
  }
  return undefined;
}
