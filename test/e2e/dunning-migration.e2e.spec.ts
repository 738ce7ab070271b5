import { DataSource } from 'typeorm';
import { Dunning1795650000000 } from '../../migrations/1795650000000-Dunning';
import { migrated, migrationsBefore, withUpgraded } from '../support/migration-steps';
import { createTestDatabase, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

// Needs a database of its own, migrated step by step: only on a PostgreSQL server.
const describeOnServer = onEmbeddedDatabase() ? describe.skip : describe;

const DAY_MS = 86_400_000;

describeOnServer(
  'the Dunning migration (needs an empty database: skipped on the embedded engine)',
  () => {
    let database: TestDatabase;
    let db: DataSource;

    beforeAll(async () => {
      database = await createTestDatabase({ empty: true });
      db = await migrated(database.url, migrationsBefore(Dunning1795650000000));
    });
    afterAll(async () => {
      await db.destroy();
      await database.drop();
    });

    it('numbers old invoices in issue order and makes none due before 14 days after the upgrade', async () => {
      const [customer] = await db.query<{ id: string }[]>(
        `INSERT INTO customers (email) VALUES ('old@example.com') RETURNING id`,
      );
      const [plan] = await db.query<{ id: string }[]>(
        `INSERT INTO plans (code, name, amount, currency, interval, user_count)
         VALUES ('basic', 'Basic', 1500, 'EUR', 'month', 1) RETURNING id`,
      );
      const [subscription] = await db.query<{ id: string }[]>(
        `INSERT INTO subscriptions (customer_id, plan_id, started_at, current_period_start, current_period_end)
         VALUES ($1, $2, now() - interval '90 days', now(), now() + interval '30 days') RETURNING id`,
        [customer.id, plan.id],
      );
      const [run] = await db.query<{ id: string }[]>(
        `INSERT INTO billing_runs (trigger, started_at) VALUES ('manual', now()) RETURNING id`,
      );
      // Issued 60 and 2 days ago.
      for (const days of [60, 2]) {
        await db.query(
          `INSERT INTO invoices (subscription_id, customer_id, plan_id, billing_run_id, amount,
             currency, period_start, period_end, created_at)
           VALUES ($1, $2, $3, $4, 1500, 'EUR', now() - make_interval(days => $5 + 30),
             now() - make_interval(days => $5), now() - make_interval(days => $5))`,
          [subscription.id, customer.id, plan.id, run.id, days],
        );
      }

      const upgradedAt = Date.now();
      await withUpgraded(database.url, async (after) => {
        const invoices = await after.query<
          { number: string; status: string; amount_due: number; due_at: Date; created_at: Date }[]
        >(
          `SELECT number::text AS number, status, amount_due, due_at, created_at
             FROM invoices ORDER BY created_at`,
        );
        expect(invoices.map((i) => [i.number, i.status, i.amount_due])).toEqual([
          ['1', 'open', 1500],
          ['2', 'open', 1500],
        ]);
        for (const invoice of invoices) {
          // 14 days after the later of issue and upgrade (the database's now, a moment ago).
          const expected = Math.max(invoice.created_at.getTime(), upgradedAt) + 14 * DAY_MS;
          expect(Math.abs(invoice.due_at.getTime() - expected)).toBeLessThan(60_000);
        }
      });
    });
  },
);
