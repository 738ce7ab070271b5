import { DataSource, type MigrationInterface } from 'typeorm';
import { migrations } from '../../migrations';

type Migration = new () => MigrationInterface;

/** Every migration listed before `migration`, in order: a database as it was before it. */
export function migrationsBefore(migration: Migration): Migration[] {
  const index = migrations.indexOf(migration);
  if (index < 0) throw new Error(`${migration.name} is not in migrations/index.ts`);
  return migrations.slice(0, index);
}

/**
 * A data source on `url` with `steps` run (each in its own transaction, as the service runs
 * them); all of them by default. The caller destroys it.
 */
export async function migrated(url: string, steps: Migration[] = migrations): Promise<DataSource> {
  const db = new DataSource({ type: 'postgres', url, migrations: steps });
  await db.initialize();
  try {
    await db.runMigrations({ transaction: 'each' });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** Runs every migration still pending on `url`, then `use` on the database; destroys it after. */
export async function withUpgraded<T>(
  url: string,
  use: (db: DataSource) => Promise<T>,
): Promise<T> {
  const db = await migrated(url);
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

/** Undoes, newest first, every migration from the last one back to `migration`, itself included. */
export async function undoThrough(db: DataSource, migration: Migration): Promise<void> {
  const index = migrations.indexOf(migration);
  if (index < 0) throw new Error(`${migration.name} is not in migrations/index.ts`);
  for (let i = migrations.length - 1; i >= index; i--) {
    await db.undoLastMigration({ transaction: 'each' });
  }
}
