import { DataSource } from 'typeorm';
import { Holds1795630000000 } from '../../migrations/1795630000000-Holds';
import { migrated, migrationsBefore, withUpgraded } from '../support/migration-steps';
import { createTestDatabase, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

// Needs a database of its own, migrated step by step: only on a PostgreSQL server.
const describeOnServer = onEmbeddedDatabase() ? describe.skip : describe;

describeOnServer(
  'the Holds migration (needs an empty database: skipped on the embedded engine)',
  () => {
    let database: TestDatabase;
    let db: DataSource;

    beforeAll(async () => {
      database = await createTestDatabase({ empty: true });
      db = await migrated(database.url, migrationsBefore(Holds1795630000000));
    });
    afterAll(async () => {
      await db.destroy();
      await database.drop();
    });

    it('gives every disabled customer one active manual hold with its reason and disabled_at', async () => {
      const [disabled] = await db.query<{ id: string }[]>(
        `INSERT INTO customers (email, status, disabled_at, disabled_reason, billing_paused)
       VALUES ('old@example.com', 'disabled', '2026-01-02T03:04:05.678Z', 'Legacy reason', true)
       RETURNING id`,
      );
      const [enabled] = await db.query<{ id: string }[]>(
        `INSERT INTO customers (email) VALUES ('fine@example.com') RETURNING id`,
      );
      await withUpgraded(database.url, async (after) => {
        const holds = await after.query<Record<string, unknown>[]>(
          `SELECT customer_id, source, reason_code, reason, starts_at, ends_at, placed_at,
                pause_billing, placed_by_type, placed_by_id, lifted_at
           FROM holds`,
        );
        expect(holds).toEqual([
          {
            customer_id: disabled.id,
            source: 'manual',
            reason_code: 'other',
            reason: 'Legacy reason',
            starts_at: new Date('2026-01-02T03:04:05.678Z'),
            ends_at: null,
            placed_at: new Date('2026-01-02T03:04:05.678Z'),
            pause_billing: true,
            placed_by_type: 'system',
            placed_by_id: null,
            lifted_at: null,
          },
        ]);
        expect(holds.map((h) => h.customer_id)).not.toContain(enabled.id);
      });
    });
  },
);
