/**
 * `npm run migration:check`: fails when the entities and the migrations differ.
 * `npm run migration:generate -- <Name>`: writes migrations/<timestamp>-<Name>.ts with the SQL
 * that brings the migrated schema to the entities, as a draft to review, never to trust blindly.
 *
 * Both run the real migrations into a fresh temporary database (on MIGRATION_DATABASE_URL's
 * server, default the local one, else the embedded engine) and ask TypeORM for the difference.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { entities } from '../entities';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  isReachable,
  uniqueDatabaseName,
  withDatabase,
} from './database-admin';
import { startEmbeddedPostgres } from './embedded-postgres';

interface Difference {
  up: string[];
  down: string[];
}

async function schemaDifference(): Promise<Difference> {
  const serverUrl = process.env.MIGRATION_DATABASE_URL ?? DEFAULT_SERVER_URL;
  if (await isReachable(serverUrl)) {
    const name = uniqueDatabaseName('ca_migcheck');
    await createDatabase(serverUrl, name);
    try {
      return await diff(withDatabase(serverUrl, name));
    } finally {
      await dropDatabase(serverUrl, name);
    }
  }
  console.warn(`No PostgreSQL at ${serverUrl}: checking on the embedded engine.`);
  const embedded = await startEmbeddedPostgres({ maxConnections: 4 });
  try {
    return await diff(embedded.url);
  } finally {
    await embedded.stop();
  }
}

async function diff(url: string): Promise<Difference> {
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const sql = await dataSource.driver.createSchemaBuilder().log();
    return {
      up: sql.upQueries.map((q) => q.query),
      down: sql.downQueries.map((q) => q.query).reverse(),
    };
  } finally {
    await dataSource.destroy();
  }
}

function migrationSource(className: string, difference: Difference): string {
  const lines = (queries: string[]) =>
    queries.map((q) => `    await queryRunner.query(${JSON.stringify(q)});`).join('\n');
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(difference.up)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines(difference.down)}
  }
}
`;
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const difference = await schemaDifference();
  if (command === 'check') {
    if (difference.up.length === 0) {
      console.log('migration:check: the migrations match the entities.');
      return;
    }
    console.error('migration:check: the entities differ from the migrations. Missing SQL:');
    for (const query of difference.up) console.error(`  ${query};`);
    console.error('Write a migration (npm run migration:generate -- <Name>) and review it.');
    process.exitCode = 1;
    return;
  }
  if (command === 'generate') {
    if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
      throw new Error('Usage: npm run migration:generate -- <PascalCaseName>');
    }
    if (difference.up.length === 0) {
      console.log('Nothing to generate: the migrations match the entities.');
      return;
    }
    const timestamp = Date.now();
    const file = join(__dirname, '..', '..', '..', 'migrations', `${timestamp}-${name}.ts`);
    writeFileSync(file, migrationSource(`${name}${timestamp}`, difference));
    console.log(`Wrote ${file}. Review it, add it to migrations/index.ts, then run the tests.`);
    return;
  }
  throw new Error('Usage: migration-tool check | generate <Name>');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
