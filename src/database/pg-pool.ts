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
