import { statisticsUpkeepRisk } from '../../src/database/statistics-upkeep';
import { createTestDatabase, queryAs, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

// main.ts checks this on PostgreSQL only: the embedded engine has no autovacuum to speak of.
const describeOnServer = onEmbeddedDatabase() ? describe.skip : describe;

describeOnServer('the warning when nothing keeps the planner statistics (main warns of it)', () => {
  let database: TestDatabase;
  // As the service asks it: its DML-only role.
  const risk = () =>
    statisticsUpkeepRisk((sql) =>
      queryAs<{ autovacuum: string; off_tables: string | null }>(database.runtimeUrl, sql),
    );
  const asOwner = (sql: string) => queryAs(database.url, sql);

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it("names the server's autovacuum when it is off, and nothing when it is on", async () => {
    const [{ autovacuum }] = await queryAs<{ autovacuum: string }>(database.url, 'SHOW autovacuum');
    await expect(risk()).resolves.toBe(
      autovacuum === 'on' ? undefined : 'the database server runs with autovacuum off',
    );
  });

  it('names the service tables that have it off, and forgets them once it is back on', async () => {
    await asOwner('ALTER TABLE holds SET (autovacuum_enabled = false)');
    await asOwner('ALTER TABLE audit_logs SET (autovacuum_enabled = false)');
    await expect(risk()).resolves.toMatch(/autovacuum is off for audit_logs, holds$/);
    await asOwner('ALTER TABLE holds RESET (autovacuum_enabled)');
    await asOwner('ALTER TABLE audit_logs RESET (autovacuum_enabled)');
    await expect(risk()).resolves.not.toMatch(/autovacuum is off for/);
  });
});
